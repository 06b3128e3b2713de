package proctree

import (
	"os/exec"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// A Hold keeps each process once, Prune lets go of what has exited (and
// only of that), and Signal reaches what it holds and lets go of it.
func TestHold(t *testing.T) {
	a, b := startSleep(t), startSleep(t)
	var h Hold
	h.Add([]Member{member(t, a), member(t, b)})
	dup := member(t, a)
	h.Add([]Member{dup})
	if h.Len() != 2 {
		t.Fatalf("Len() = %d after a second Add of one member, want 2", h.Len())
	}
	if stillOpen(dup.Fd) {
		t.Errorf("the pidfd of a member held twice is still open")
	}
	if h.Prune(); h.Len() != 2 {
		t.Fatalf("Prune let go of running processes: Len() = %d", h.Len())
	}
	held := append([]Member(nil), h.held...)
	a.Process.Signal(syscall.SIGTERM)
	a.Wait()
	if h.Prune(); h.Len() != 1 {
		t.Fatalf("Len() = %d after one of two exited, want 1", h.Len())
	}
	h.Signal(syscall.SIGKILL)
	if h.Len() != 0 {
		t.Errorf("Len() = %d after Signal, want 0", h.Len())
	}
	if err := b.Wait(); err == nil || b.ProcessState.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Errorf("the held process: %v, want killed by Signal's SIGKILL", err)
	}
	for _, m := range held {
		if stillOpen(m.Fd) {
			t.Errorf("the pidfd of %d is still open after Prune and Signal", m.Pid)
		}
	}

	c := startSleep(t)
	m := member(t, c)
	h.Add([]Member{m})
	if h.Release(); h.Len() != 0 || stillOpen(m.Fd) {
		t.Errorf("Release: Len() = %d, want 0 and the pidfd closed", h.Len())
	}
	time.Sleep(50 * time.Millisecond)
	if c.Process.Signal(syscall.Signal(0)) != nil {
		t.Error("Release signalled the process")
	}
}

// stillOpen reports whether fd is still open.
func stillOpen(fd int) bool {
	_, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
	return err != unix.EBADF
}

// startSleep starts a sleep that the test kills and reaps at its end.
func startSleep(t *testing.T) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd
}

// member returns cmd's process as a Member, with a pidfd of its own.
func member(t *testing.T, cmd *exec.Cmd) Member {
	t.Helper()
	fd, err := unix.PidfdOpen(cmd.Process.Pid, 0)
	if err != nil {
		t.Skipf("no pidfds: %v", err)
	}
	return Member{Pid: cmd.Process.Pid, Fd: fd}
}
