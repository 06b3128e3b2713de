//go:build unix

package childproc_test

import (
	"context"
	"errors"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/childproc/childproc"
)

// A negative ForceKillAfter never escalates.
func TestForceKillNever(t *testing.T) {
	c, err := childproc.Spawn(context.Background(), "sh", []string{"-c", "trap 'exit 7' TERM; sleep 0.3 & wait; sleep 0.3 & wait"}, &childproc.Options{
		Stdio:          []any{childproc.Ignore, childproc.Ignore, childproc.Ignore},
		Timeout:        100 * time.Millisecond,
		ForceKillAfter: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Wait()
	var e *childproc.Error
	if !errors.As(err, &e) || e.ExitCode != 7 || e.ForceKilled || !e.TimedOut {
		t.Fatalf("Wait: %#v", err)
	}
}

// A child lives on when the goroutine that spawned it ends while locked to
// its thread, which ends the thread too. Linux sends the parent-death
// signal when the forking thread ends, not the process, so this would
// kill a child given one and forked from the caller's thread; childproc
// forks from the caller's thread and ties children to the parent
// process through the guardian instead.
func TestChildOutlivesSpawningThread(t *testing.T) {
	type spawned struct {
		c   *childproc.Child
		err error
	}
	const n = 5
	out := make(chan spawned, n)
	for range n {
		go func() {
			runtime.LockOSThread() // never unlocked: the thread ends with this goroutine
			c, err := childproc.Spawn(context.Background(), "sleep", []string{"30"}, &childproc.Options{Stdio: []any{childproc.Ignore, childproc.Ignore, childproc.Ignore}})
			out <- spawned{c, err}
		}()
	}
	var children []*childproc.Child
	for range n {
		s := <-out
		if s.err != nil {
			t.Error(s.err)
			continue
		}
		children = append(children, s.c)
	}
	time.Sleep(300 * time.Millisecond) // the threads are gone by now
	for _, c := range children {
		select {
		case <-c.Exited():
			t.Errorf("child %d ended with its spawning thread: signal %s", c.Pid(), c.SignalCode())
		default:
		}
		c.Kill(syscall.SIGKILL)
		c.Wait()
	}
}
