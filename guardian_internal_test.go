//go:build linux

package childproc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/childproc/childproc/internal/guardian"
	"github.com/childproc/childproc/internal/proctree"
)

// A spawn whose child cannot be registered with a guardian (this one died
// after the child started, and no new one can start) fails with an
// *Error and leaves nothing running: not the child, nor what its shell
// had already started, with KillTree or without.
func TestUnguardableSpawnLeavesNothing(t *testing.T) {
	if err := guardian.Ready(); err != nil {
		t.Fatal(err)
	}
	for _, killTree := range []bool{false, true} {
		mark := "CHILDPROC_TEST_MARK=" + t.Name() + strconv.Itoa(os.Getpid()) + strconv.FormatBool(killTree)
		guardian.BeforeGuard = func() {
			for deadline := time.Now().Add(5 * time.Second); len(withEnv(mark)) < 2; time.Sleep(10 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Errorf("the shell never started its sleep")
					break
				}
			}
			g := guardian.Process()
			guardian.SetProgram("/nonexistent/guardian")
			g.Kill()
			waitReaped(g.Pid, 5*time.Second)
		}
		_, err := Spawn(context.Background(), "sh", []string{"-c", "sleep 300 & wait"}, &Options{
			Env:      append(os.Environ(), mark),
			Stdio:    []any{Ignore, Ignore, Ignore},
			KillTree: killTree,
		})
		guardian.BeforeGuard = nil
		guardian.SetProgram("/proc/self/exe")
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
		if err := guardian.Ready(); err != nil {
			t.Fatal(err)
		}
	}
}

// waitReaped waits, at most within, until the guardian pid has been
// reaped: only then are all its threads gone, and its descriptors closed
// (a leader whose other threads still exit is a zombie already).
func waitReaped(pid int, within time.Duration) {
	for end := time.Now().Add(within); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); err != nil {
			return
		}
	}
}

// withEnv returns the live processes whose environment holds kv.
func withEnv(kv string) []int {
	var pids []int
	for _, p := range proctree.ReadProcs() {
		env, _ := os.ReadFile("/proc/" + strconv.Itoa(p.Pid) + "/environ")
		if slices.Contains(strings.Split(string(env), "\x00"), kv) {
			pids = append(pids, p.Pid)
		}
	}
	return pids
}

// Registrations that find the guardian's socket full wait for it: a
// guardian that is slow to read (here: stopped) is neither taken for dead
// nor replaced (a replaced guardian that reads EOF before it dies kills
// every child).
func TestGuardianSlowToRead(t *testing.T) {
	if err := guardian.Ready(); err != nil {
		t.Fatal(err)
	}
	g := guardian.Process()
	unix.Kill(g.Pid, unix.SIGSTOP)
	resumed := make(chan struct{})
	go func() {
		time.Sleep(2 * time.Second)
		unix.Kill(g.Pid, unix.SIGCONT)
		close(resumed)
	}()
	defer func() { <-resumed }()
	const n = 1500 // more registrations than the socket holds
	children := make([]*Child, 0, n)
	for range n {
		c, err := Spawn(context.Background(), "/bin/true", nil, &Options{Stdio: []any{Ignore, Ignore, Ignore}})
		if err != nil {
			t.Fatal(err)
		}
		children = append(children, c)
	}
	for _, c := range children {
		if err := c.Wait(); err != nil {
			t.Fatalf("child %d: %v", c.Pid(), err)
		}
	}
	if guardian.Process() != g {
		t.Errorf("the guardian was replaced while it was slow to read")
	}
}

// A guardian killed while children run is replaced, and the logger set
// with SetGuardianLogger hears of it.
func TestGuardianLoggerHearsOfReplacement(t *testing.T) {
	var buf syncBuffer
	SetGuardianLogger(slog.New(slog.NewTextHandler(&buf, nil)))
	defer SetGuardianLogger(nil)
	c, err := Spawn(context.Background(), "sleep", []string{"30"}, &Options{Stdio: []any{Ignore, Ignore, Ignore}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { c.Kill(syscall.SIGKILL); c.Wait() }()
	g := guardian.Process()
	if g == nil {
		t.Fatal("no guardian after a guarded spawn")
	}
	g.Kill()
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(buf.String(), "replaced") && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if got := buf.String(); !strings.Contains(got, "level=WARN") || !strings.Contains(got, "the guardian died and was replaced") {
		t.Fatalf("the logger heard %q", got)
	}
	// A guardian that cannot be replaced is an error: nobody else hears.
	g = guardian.Process()
	guardian.SetProgram("/nonexistent/guardian")
	defer guardian.SetProgram("/proc/self/exe")
	g.Kill()
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(buf.String(), "could not be replaced") && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if got := buf.String(); !strings.Contains(got, "level=ERROR") || !strings.Contains(got, "could not be replaced") {
		t.Fatalf("the logger heard %q", got)
	}
}

// syncBuffer is a bytes.Buffer that a handler may write from another
// goroutine.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestKeptTreesBounded: a program that starts KillTree children by the
// thousand keeps a bounded number of their trees once they are reaped:
// those that no process carries any more are withdrawn, in looks at
// /proc made once per thousand or so of them.
func TestKeptTreesBounded(t *testing.T) {
	const n, workers = 2300, 2
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range n / workers {
				c, err := Spawn(context.Background(), "true", nil, &Options{KillTree: true, Stdio: []any{Ignore, Ignore, Ignore}})
				if err == nil {
					err = c.Wait()
				}
				if err != nil {
					errs <- fmt.Errorf("worker %d: %w", w, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if k := guardian.Kept(); k > 1024 {
		t.Errorf("%d trees of reaped children kept after %d KillTree children, want at most 1024", k, n)
	}
}
