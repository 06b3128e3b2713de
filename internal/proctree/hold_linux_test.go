package proctree

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// A Hold keeps each process once, waits for its exit in Go's poller (no
// thread is blocked), lets a Release end that wait, signals what it
// holds, and Prune lets go of what has exited.
func TestHold(t *testing.T) {
	a, b := startSleep(t), startSleep(t)
	var h Hold
	h.Add([]Member{member(t, a), member(t, b)})
	dup := member(t, a)
	h.Add([]Member{dup})
	if h.Len() != 2 {
		t.Fatalf("Len() = %d after a second Add of one member, want 2", h.Len())
	}
	if _, err := unix.FcntlInt(uintptr(dup.Fd), unix.F_GETFD, 0); err != unix.EBADF {
		t.Errorf("the pidfd of a member held twice is still open (%v)", err)
	}

	waited := make(chan struct{})
	exits := h.Exits()
	go func() { exits.Wait(); close(waited) }()
	if returnsWithin(waited, 100*time.Millisecond) {
		t.Fatal("Exits.Wait returned while both processes run")
	}
	h.Prune()
	if h.Len() != 2 {
		t.Fatalf("Prune let go of running processes: Len() = %d", h.Len())
	}

	a.Process.Signal(syscall.SIGTERM)
	if returnsWithin(waited, 100*time.Millisecond) {
		t.Fatal("Exits.Wait returned while one process still runs")
	}
	h.Prune()
	if h.Len() != 1 {
		t.Fatalf("Len() = %d after one of two exited, want 1", h.Len())
	}
	h.Signal(syscall.SIGKILL)
	if h.Len() != 0 {
		t.Errorf("Len() = %d after Signal, want 0", h.Len())
	}
	if !returnsWithin(waited, 10*time.Second) {
		t.Fatal("Exits.Wait did not return once both processes were gone")
	}
	if err := b.Wait(); err == nil || b.ProcessState.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Errorf("the held process: %v, want killed by Signal's SIGKILL", err)
	}

	// A Release ends a wait for a process that runs on.
	c := startSleep(t)
	h.Add([]Member{member(t, c)})
	waited = make(chan struct{})
	exits = h.Exits()
	go func() { exits.Wait(); close(waited) }()
	time.Sleep(50 * time.Millisecond)
	h.Release()
	if !returnsWithin(waited, 10*time.Second) {
		t.Fatal("Exits.Wait did not return when the Hold was released")
	}
	if c.Process.Signal(syscall.Signal(0)) != nil {
		t.Error("Release signalled the process")
	}
}

// returnsWithin reports whether done is closed within d.
func returnsWithin(done <-chan struct{}, d time.Duration) bool {
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
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

// Waiting for an exit takes no thread: 100 waits at once, each on a
// pidfd of its own, leave the process with about as many threads.
func TestHoldWaitsInThePoller(t *testing.T) {
	cmd := startSleep(t)
	before := threadCount(t)
	holds := make([]Hold, 100)
	var waits sync.WaitGroup
	for i := range holds {
		holds[i].Add([]Member{member(t, cmd)})
		waits.Go(holds[i].Exits().Wait)
	}
	time.Sleep(200 * time.Millisecond)
	during := threadCount(t)
	cmd.Process.Kill()
	waits.Wait()
	for i := range holds {
		holds[i].Release()
	}
	if during > before+20 {
		t.Errorf("%d threads during 100 waits, %d before: each wait holds a thread", during, before)
	}
}

// threadCount returns how many threads this process has now.
func threadCount(t *testing.T) int {
	t.Helper()
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(status), "\nThreads:")
	line, _, _ := strings.Cut(rest, "\n")
	n, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatalf("no thread count in /proc/self/status: %v", err)
	}
	return n
}
