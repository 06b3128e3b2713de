//go:build linux

package childproc

import (
	"context"
	"errors"
	"os"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// A spawn whose child cannot be registered with a guardian (this one died
// after the child started, and no new one can start) fails with an
// *Error and leaves nothing running: not the child, nor what its shell
// had already started, with KillTree or without.
func TestUnguardableSpawnLeavesNothing(t *testing.T) {
	if err := readyGuardian(); err != nil {
		t.Fatal(err)
	}
	for _, killTree := range []bool{false, true} {
		mark := "CHILDPROC_TEST_MARK=" + t.Name() + strconv.Itoa(os.Getpid()) + strconv.FormatBool(killTree)
		testHookGuardChild = func() {
			for deadline := time.Now().Add(5 * time.Second); len(withEnv(mark)) < 2; time.Sleep(10 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Errorf("the shell never started its sleep")
					break
				}
			}
			guardian.mu.Lock()
			g := guardian.proc
			guardianPath = "/nonexistent/guardian"
			guardian.mu.Unlock()
			g.p.Kill()
			unix.Poll([]unix.PollFd{{Fd: int32(g.fd), Events: unix.POLLIN}}, 5000) // EOF once it is dead
		}
		_, err := Spawn(context.Background(), "sh", []string{"-c", "sleep 300 & wait"}, &Options{
			Env:      append(os.Environ(), mark),
			Stdio:    []any{Ignore, Ignore, Ignore},
			KillTree: killTree,
		})
		testHookGuardChild = nil
		guardian.mu.Lock()
		guardianPath = "/proc/self/exe"
		guardian.mu.Unlock()
		var e *Error
		if !errors.As(err, &e) || e.Syscall != "guardian" || !errors.Is(err, os.ErrNotExist) {
			t.Errorf("KillTree %v: spawn error %v, want an *Error from the guardian wrapping ENOENT", killTree, err)
		}
		if left := withEnv(mark); len(left) > 0 {
			for _, p := range left {
				unix.Kill(p, unix.SIGKILL)
			}
			t.Errorf("KillTree %v: the failed spawn left %d processes running", killTree, len(left))
		}
		if err := readyGuardian(); err != nil {
			t.Fatal(err)
		}
	}
}

// withEnv returns the live processes whose environment holds kv.
func withEnv(kv string) []int {
	var pids []int
	for _, p := range readProcs() {
		if hasMarker(p.pid, []byte(kv+"\x00")) {
			pids = append(pids, p.pid)
		}
	}
	return pids
}
