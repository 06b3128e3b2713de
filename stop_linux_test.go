package childproc_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/childproc/childproc"
)

// A stop (Timeout, abort, MaxBuffer) without Options.KillTree reaches
// what the child started too, at both steps: here a shell that ignores
// SIGTERM, and its sleep, which inherits that, both die of the SIGKILL
// after ForceKillAfter; nothing is left running and Wait returns.
func TestStopReachesDescendants(t *testing.T) {
	script := "trap '' TERM; sleep 30; echo late"
	for _, tc := range []struct {
		name  string
		start func(ctx context.Context, opts *childproc.Options) (*childproc.Child, error)
		opts  childproc.Options
		abort bool
	}{
		{name: "Spawn with Timeout", opts: childproc.Options{Timeout: 300 * time.Millisecond}, start: spawnShell(script)},
		{name: "Spawn aborted", abort: true, start: spawnShell(script)},
		{name: "Exec with Timeout", opts: childproc.Options{Timeout: 300 * time.Millisecond}, start: execShell(script)},
		{name: "Exec over MaxBuffer", opts: childproc.Options{MaxBuffer: 10}, start: execShell("trap '' TERM; echo 0123456789abcdef; sleep 30; echo late")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mark := uniqueMark(t)
			opts := tc.opts
			opts.Env = append(os.Environ(), "CHILDPROC_TEST_MARK="+mark)
			opts.ForceKillAfter = 300 * time.Millisecond
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			c, err := tc.start(ctx, &opts)
			if err != nil {
				t.Fatal(err)
			}
			for deadline := time.Now().Add(5 * time.Second); len(markedProcesses(mark)) < 2 && time.Now().Before(deadline); {
				time.Sleep(20 * time.Millisecond)
			}
			if n := len(markedProcesses(mark)); n < 2 {
				t.Fatalf("the shell and its sleep did not start (%d processes)", n)
			}
			if tc.abort {
				cancel()
			}
			start := time.Now()
			e := asError(t, waitFor(t, c))
			if e.Signal != "SIGKILL" || !e.ForceKilled {
				t.Errorf("Wait: %v (signal %q, ForceKilled %v), want the shell SIGKILLed after ForceKillAfter", e, e.Signal, e.ForceKilled)
			}
			if left := waitGone(mark, 3*time.Second); len(left) > 0 {
				killAll(left)
				t.Fatalf("%d processes left running after the stop: %v", len(left), left)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("Wait returned %v after the stop", d)
			}
		})
	}
}

func spawnShell(script string) func(context.Context, *childproc.Options) (*childproc.Child, error) {
	return func(ctx context.Context, opts *childproc.Options) (*childproc.Child, error) {
		return childproc.Spawn(ctx, "sh", []string{"-c", script}, opts)
	}
}

func execShell(script string) func(context.Context, *childproc.Options) (*childproc.Child, error) {
	return func(ctx context.Context, opts *childproc.Options) (*childproc.Child, error) {
		return childproc.Exec(ctx, script, opts)
	}
}

// A shell that dies of KillSignal does not leave behind what it started
// and what ignores KillSignal: the stop's SIGKILL still reaches the
// processes the stop found, after the shell was reaped.
func TestStopKillsWhatOutlivesTheShell(t *testing.T) {
	c, err := childproc.Spawn(context.Background(), "sh", []string{"-c", "(trap '' TERM; exec sleep 120) & echo $!; wait"}, &childproc.Options{
		Timeout:        300 * time.Millisecond,
		ForceKillAfter: 500 * time.Millisecond,
		Stdio:          []any{childproc.Ignore, childproc.Pipe, childproc.Ignore},
	})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	var pid int
	if _, err := fmt.Fscan(c.Stdout, &pid); err != nil {
		t.Fatal(err)
	}
	defer syscall.Kill(pid, syscall.SIGKILL)
	werr := c.Wait()
	var e *childproc.Error
	if !errors.As(werr, &e) || e.Signal != "SIGTERM" || !e.TimedOut {
		t.Fatalf("Wait = %v, want the shell timed out and killed by SIGTERM", werr)
	}
	for alive(pid) && time.Since(start) < 20*time.Second {
		time.Sleep(20 * time.Millisecond)
	}
	if alive(pid) {
		t.Fatalf("sleep %d, which ignores SIGTERM, outlived the stop by 20 s", pid)
	}
}

// Stop sends KillSignal and returns once the child has exited: a child
// that ends on SIGTERM ends by it; one that ignores it, with its sleep,
// gets SIGKILL after ForceKillAfter; when ctx ends first, the SIGKILL
// comes at once and Stop returns ctx's error; a child that has exited is
// not signalled.
func TestStopOneChild(t *testing.T) {
	t.Run("KillSignal", func(t *testing.T) {
		c, err := childproc.Spawn(context.Background(), "sleep", []string{"30"}, &childproc.Options{Stdio: []any{childproc.Ignore, childproc.Ignore, childproc.Ignore}})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Stop(context.Background()); err != nil {
			t.Fatalf("Stop: %v", err)
		}
		e := asError(t, c.Wait())
		if e.Signal != "SIGTERM" || !e.Killed || e.ForceKilled {
			t.Errorf("Wait after Stop: %v (signal %q, Killed %v, ForceKilled %v), want SIGTERM", e, e.Signal, e.Killed, e.ForceKilled)
		}
	})
	for _, tc := range []struct {
		name     string
		force    time.Duration
		ctx      time.Duration
		wantErr  error
		earliest time.Duration
	}{
		{name: "ForceKillAfter", force: 500 * time.Millisecond, ctx: long, earliest: 500 * time.Millisecond},
		{name: "ctx", force: -1, ctx: 300 * time.Millisecond, wantErr: context.DeadlineExceeded, earliest: 300 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mark := uniqueMark(t)
			c, err := childproc.Spawn(context.Background(), "sh", []string{"-c", "trap '' TERM; sleep 30; echo late"}, &childproc.Options{
				Env:            append(os.Environ(), "CHILDPROC_TEST_MARK="+mark),
				ForceKillAfter: tc.force,
				Stdio:          []any{childproc.Ignore, childproc.Ignore, childproc.Ignore},
			})
			if err != nil {
				t.Fatal(err)
			}
			for deadline := time.Now().Add(5 * time.Second); len(markedProcesses(mark)) < 2 && time.Now().Before(deadline); {
				time.Sleep(20 * time.Millisecond)
			}
			ctx, cancel := context.WithTimeout(context.Background(), tc.ctx)
			defer cancel()
			start := time.Now()
			if err := c.Stop(ctx); !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
				t.Errorf("Stop: %v, want %v", err, tc.wantErr)
			}
			took := time.Since(start)
			e := asError(t, waitFor(t, c))
			if e.Signal != "SIGKILL" {
				t.Errorf("Wait after Stop: %v, want SIGKILL", e)
			}
			if took < tc.earliest {
				t.Errorf("Stop returned after %v, before %v: the SIGKILL came too soon", took, tc.earliest)
			}
			if left := waitGone(mark, 3*time.Second); len(left) > 0 {
				killAll(left)
				t.Fatalf("%d processes left running after Stop: %v", len(left), left)
			}
		})
	}
	t.Run("exited", func(t *testing.T) {
		c, err := childproc.Spawn(context.Background(), "true", nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := waitFor(t, c); err != nil {
			t.Fatal(err)
		}
		if err := c.Stop(context.Background()); err != nil || c.Killed() {
			t.Errorf("Stop of an exited child: %v (Killed %v), want nil and no signal", err, c.Killed())
		}
	})
}

// Node starts the child and kills it at once when the signal is already
// aborted; childproc starts nothing. Not parallel: it counts children.
func TestPortAbortBeforeStart(t *testing.T) {
	kids := ourChildren()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	marker := filepath.Join(t.TempDir(), "ran")
	script := "touch " + marker
	c, err := childproc.Spawn(ctx, "sh", []string{"-c", script}, nil)
	if c != nil {
		t.Fatal("Spawn with a done ctx returned a Child")
	}
	if e := wantCode(t, err, childproc.CodeAbort); !errors.Is(err, context.Canceled) || e.ExitCode != -1 {
		t.Fatalf("%#v", e)
	}
	_, err = childproc.Exec(ctx, script, nil)
	wantCode(t, err, childproc.CodeAbort)
	_, err = childproc.ExecFile(ctx, "sh", []string{"-c", script}, nil)
	wantCode(t, err, childproc.CodeAbort)
	_, err = childproc.Fork(ctx, "testdata/port/echo.js", nil, nil)
	wantCode(t, err, childproc.CodeAbort)
	if left := newChildren(kids, ourChildren()); len(left) > 0 {
		t.Fatalf("children appeared: %v", left)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("the command ran")
	}
}

// TestStopAfterExitIsNil: Stop of a child that has exited returns nil,
// even with a ctx already done (both were ready, and the ctx's error
// came back about a third of the time), and delivers no signal.
func TestStopAfterExitIsNil(t *testing.T) {
	c, err := childproc.Spawn(t.Context(), "true", nil, &childproc.Options{Stdio: portQuiet()})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Wait(); err != nil {
		t.Fatal(err)
	}
	done, cancel := context.WithCancel(context.Background())
	cancel()
	for range 50 {
		if err := c.Stop(done); err != nil {
			t.Fatalf("Stop with a done ctx after Wait: %v, want nil", err)
		}
		if err := c.Stop(context.Background()); err != nil {
			t.Fatalf("Stop after Wait: %v, want nil", err)
		}
	}
	if c.Killed() {
		t.Error("Killed() after Stops of an exited child")
	}
}

// A graceful stop of a child whose tree dies of KillSignal leaves nothing
// behind once the tree is gone: the pidfds it held of the tree are closed
// and no goroutine of it is left, well before ForceKillAfter (5 s) would
// have fired, whichever way the stop came.
func TestStopReleasesWhatItHolds(t *testing.T) {
	script := "sleep 30 & sleep 30 & wait"
	for _, tc := range []struct {
		name     string
		killTree bool
		timeout  time.Duration
		stop     func(ctx context.Context, cancel context.CancelFunc, c *childproc.Child) error
	}{
		{name: "Stop", killTree: true, stop: func(ctx context.Context, _ context.CancelFunc, c *childproc.Child) error { return c.Stop(ctx) }},
		{name: "KillTree(nil)", killTree: true, stop: func(_ context.Context, _ context.CancelFunc, c *childproc.Child) error { return c.KillTree(nil) }},
		{name: "Timeout", killTree: true, timeout: 200 * time.Millisecond},
		{name: "abort", killTree: true, stop: func(_ context.Context, cancel context.CancelFunc, _ *childproc.Child) error { cancel(); return nil }},
		{name: "Stop without KillTree", stop: func(ctx context.Context, _ context.CancelFunc, c *childproc.Child) error { return c.Stop(ctx) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := leakCycle(0); err != nil { // start what childproc keeps for good
				t.Fatal(err)
			}
			fdsBefore := openFds(t)
			ignore := append([]goleak.Option{goleak.IgnoreCurrent()}, lastingGoroutines...)
			mark := uniqueMark(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			c, err := childproc.Spawn(ctx, "sh", []string{"-c", script}, &childproc.Options{
				Env:      append(os.Environ(), "CHILDPROC_TEST_MARK="+mark),
				Stdio:    portQuiet(),
				KillTree: tc.killTree,
				Timeout:  tc.timeout,
			})
			if err != nil {
				t.Fatal(err)
			}
			for deadline := time.Now().Add(5 * time.Second); len(markedProcesses(mark)) < 3 && time.Now().Before(deadline); {
				time.Sleep(20 * time.Millisecond)
			}
			if n := len(markedProcesses(mark)); n < 3 {
				c.KillTree(syscall.SIGKILL)
				t.Fatalf("the shell and its sleeps did not start (%d processes)", n)
			}
			if tc.stop != nil {
				if err := tc.stop(context.Background(), cancel, c); err != nil {
					t.Fatalf("stop: %v", err)
				}
			}
			if e := asError(t, waitFor(t, c)); e.Signal != "SIGTERM" || e.ForceKilled {
				t.Fatalf("Wait: %v (signal %q, ForceKilled %v), want the shell ended by SIGTERM", e, e.Signal, e.ForceKilled)
			}
			if left := waitGone(mark, 3*time.Second); len(left) > 0 {
				killAll(left)
				t.Fatalf("%d processes left running after the stop: %v", len(left), left)
			}
			gone := time.Now()
			var fds []string
			var gerr error
			for deadline := gone.Add(time.Second); ; time.Sleep(20 * time.Millisecond) {
				fds = newFds(fdsBefore, openFds(t))
				gerr = goleak.Find(ignore...)
				if len(fds) == 0 && gerr == nil || time.Now().After(deadline) {
					break
				}
			}
			if len(fds) > 0 || gerr != nil {
				t.Fatalf("1 s after the tree was gone (ForceKillAfter 5 s): new fds %v, goroutines: %v", fds, gerr)
			}
			t.Logf("nothing of the stop left %v after the tree was seen gone", time.Since(gone))
		})
	}
}

// Whichever way a graceful stop comes, a process of the tree that ignores
// KillSignal is SIGKILLed after ForceKillAfter, also after the shell that
// started it died of KillSignal and was reaped, and (with KillTree) also
// when it was forked after the stop by a member that then exited: the
// stop lets go of the tree only once nothing of it is left.
func TestStopKillsWhatOutlivesTheShellAnyWay(t *testing.T) {
	const (
		before = "(trap '' TERM; exec sleep 120 >/dev/null) & echo $!; wait"
		after  = "(trap '' TERM; sleep 0.3; (trap '' TERM; exec sleep 120 >/dev/null) & echo $!) & wait"
	)
	stop := func(ctx context.Context, c *childproc.Child) error { return c.Stop(ctx) }
	killTree := func(_ context.Context, c *childproc.Child) error { return c.KillTree(nil) }
	for _, tc := range []struct {
		name     string
		script   string
		killTree bool
		timeout  time.Duration
		stop     func(ctx context.Context, c *childproc.Child) error
	}{
		{name: "Stop", script: before, stop: stop},
		{name: "KillTree(nil)", script: before, stop: killTree},
		{name: "KillTree, Timeout", script: before, killTree: true, timeout: 200 * time.Millisecond},
		{name: "KillTree, Stop", script: before, killTree: true, stop: stop},
		{name: "KillTree, KillTree(nil)", script: before, killTree: true, stop: killTree},
		{name: "KillTree, forked after the stop", script: after, killTree: true, stop: stop},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const force = 1500 * time.Millisecond
			c, err := childproc.Spawn(context.Background(), "sh", []string{"-c", tc.script}, &childproc.Options{
				Timeout:        tc.timeout,
				KillTree:       tc.killTree,
				ForceKillAfter: force,
				Stdio:          []any{childproc.Ignore, childproc.Pipe, childproc.Ignore},
			})
			if err != nil {
				t.Fatal(err)
			}
			if tc.script == before {
				time.Sleep(100 * time.Millisecond) // the subshell has set its trap
			}
			start := time.Now()
			if tc.stop != nil {
				if err := tc.stop(context.Background(), c); err != nil {
					t.Fatalf("stop: %v", err)
				}
			}
			var pid int
			if _, err := fmt.Fscan(c.Stdout, &pid); err != nil {
				t.Fatal(err)
			}
			defer syscall.Kill(pid, syscall.SIGKILL)
			if e := asError(t, waitFor(t, c)); e.Signal != "SIGTERM" {
				t.Fatalf("Wait: %v, want the shell ended by SIGTERM", e)
			}
			if time.Sleep(force/2 - time.Since(start)); !alive(pid) {
				t.Fatalf("sleep %d, which ignores SIGTERM, gone %v after the stop, before ForceKillAfter (%v)", pid, time.Since(start), force)
			}
			for alive(pid) && time.Since(start) < 20*time.Second {
				time.Sleep(20 * time.Millisecond)
			}
			if alive(pid) {
				t.Fatalf("sleep %d, which ignores SIGTERM, outlived the stop by 20 s", pid)
			}
		})
	}
}
