//go:build linux

package childproc_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"testing"
	"time"

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
