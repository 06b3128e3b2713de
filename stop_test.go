//go:build unix

package childproc_test

import (
	"context"
	"errors"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/childproc/childproc"
)

// Node: test-child-process-kill, test-child-process-spawn-typeerror (kill
// with a bad signal), test-child-process-exec-kill-throws,
// test-child-process-kill-after-exit (subprocess.kill() returns false).
func TestPortKill(t *testing.T) {
	t.Parallel()
	start := func(opts *childproc.Options) *childproc.Child {
		t.Helper()
		if opts == nil {
			opts = &childproc.Options{}
		}
		opts.Stdio = portQuiet()
		c, err := childproc.Spawn(t.Context(), "sleep", []string{"30"}, opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Kill(syscall.SIGKILL); <-c.Done() })
		return c
	}

	t.Run("any signal", func(t *testing.T) {
		t.Parallel()
		// Not SIGINT or SIGHUP: a test run in the background by a shell
		// (or under nohup) has them ignored, and so would sleep.
		for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGALRM, syscall.SIGPIPE} {
			c := start(nil)
			if c.ExitCode() != -1 || c.SignalCode() != "" || c.Killed() || c.Rusage() != nil {
				t.Fatalf("running: exit %d signal %q killed %v", c.ExitCode(), c.SignalCode(), c.Killed())
			}
			if err := c.Kill(sig); err != nil {
				t.Fatalf("Kill(%v): %v", sig, err)
			}
			if !c.Killed() {
				t.Fatalf("Killed false after Kill(%v)", sig)
			}
			e := asError(t, waitFor(t, c))
			name := portSignalName(sig)
			if e.Signal != name || c.SignalCode() != name || c.ExitCode() != -1 || e.ExitCode != -1 || !e.Killed {
				t.Fatalf("after %v: error %#v, SignalCode %q ExitCode %d", sig, e, c.SignalCode(), c.ExitCode())
			}
			if c.Rusage() == nil {
				t.Fatal("no Rusage after exit")
			}
		}
	})

	t.Run("nil is KillSignal", func(t *testing.T) {
		t.Parallel()
		c := start(&childproc.Options{KillSignal: syscall.SIGUSR2})
		if err := c.Kill(nil); err != nil {
			t.Fatal(err)
		}
		if e := asError(t, waitFor(t, c)); e.Signal != "SIGUSR2" {
			t.Fatalf("Kill(nil) with KillSignal SIGUSR2: %v", e)
		}
		c = start(nil)
		c.Kill(nil)
		if e := asError(t, waitFor(t, c)); e.Signal != "SIGTERM" {
			t.Fatalf("Kill(nil): %v", e)
		}
	})

	t.Run("signal 0", func(t *testing.T) {
		t.Parallel()
		c := start(nil)
		if err := c.Kill(syscall.Signal(0)); err != nil {
			t.Fatalf("Kill(0): %v", err)
		}
		if !c.Killed() {
			t.Fatal("Kill(0) did not set Killed")
		}
		select {
		case <-c.Exited():
			t.Fatal("signal 0 ended the child")
		case <-time.After(100 * time.Millisecond):
		}
		if c.ExitCode() != -1 || c.SignalCode() != "" {
			t.Fatalf("still running: exit %d signal %q", c.ExitCode(), c.SignalCode())
		}
	})

	t.Run("after exit", func(t *testing.T) {
		t.Parallel()
		c, err := childproc.Spawn(t.Context(), "true", nil, &childproc.Options{Stdio: portQuiet()})
		if err != nil {
			t.Fatal(err)
		}
		if err := waitFor(t, c); err != nil {
			t.Fatal(err)
		}
		if c.ExitCode() != 0 || c.SignalCode() != "" || c.Killed() {
			t.Fatalf("after exit: %d %q %v", c.ExitCode(), c.SignalCode(), c.Killed())
		}
		for _, sig := range []os.Signal{syscall.SIGTERM, nil, syscall.Signal(0)} {
			err := c.Kill(sig)
			e := wantCode(t, err, "ESRCH")
			if !errors.Is(err, os.ErrProcessDone) || e.Syscall != "kill" {
				t.Fatalf("Kill(%v) after exit: %#v", sig, e)
			}
		}
		if c.Killed() {
			t.Fatal("a failed Kill set Killed")
		}
	})

	t.Run("unknown signal", func(t *testing.T) {
		t.Parallel()
		c := start(nil)
		for _, sig := range []os.Signal{syscall.Signal(99), syscall.Signal(-1)} {
			wantCode(t, c.Kill(sig), childproc.CodeUnknownSignal)
		}
		if c.Killed() {
			t.Fatal("an unknown signal set Killed")
		}
	})
}

// Node: test-child-process-spawn-controller, test-child-process-exec-abortcontroller-promisified,
// test-child-process-execfile-abortcontroller (signal option).
func TestPortAbort(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"spawn", "exec", "execFile", "fork"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			var (
				c   *childproc.Child
				err error
			)
			switch kind {
			case "spawn":
				c, err = childproc.Spawn(ctx, "sleep", []string{"30"}, &childproc.Options{Stdio: portQuiet()})
			case "exec":
				c, err = childproc.Exec(ctx, "exec sleep 30", nil)
			case "execFile":
				c, err = childproc.ExecFile(ctx, "sleep", []string{"30"}, nil)
			case "fork":
				c, err = childproc.Fork(ctx, "testdata/port/echo.js", nil, &childproc.Options{Silent: true})
			}
			if err != nil {
				t.Fatal(err)
			}
			cancel()
			err = waitFor(t, c)
			e := wantCode(t, err, childproc.CodeAbort)
			if !errors.Is(err, context.Canceled) || e.Signal != "SIGTERM" || !e.Killed || e.ExitCode != -1 {
				t.Fatalf("abort: %#v", e)
			}
			if c.SignalCode() != "SIGTERM" || !c.Killed() {
				t.Fatalf("child: signal %q killed %v", c.SignalCode(), c.Killed())
			}
		})
	}
	// The cause is kept.
	t.Run("cause", func(t *testing.T) {
		t.Parallel()
		cause := errors.New("port: shutting down")
		ctx, cancel := context.WithCancelCause(t.Context())
		c, err := childproc.Spawn(ctx, "sleep", []string{"30"}, &childproc.Options{Stdio: portQuiet(), KillSignal: syscall.SIGUSR1})
		if err != nil {
			t.Fatal(err)
		}
		cancel(cause)
		err = waitFor(t, c)
		if e := wantCode(t, err, childproc.CodeAbort); !errors.Is(err, cause) || e.Signal != "SIGUSR1" {
			t.Fatalf("abort with a cause: %#v", e)
		}
	})
}
