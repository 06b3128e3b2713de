//go:build linux

package pool_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/childproc/childproc"
	"github.com/childproc/childproc/pool"
)

// The Go workers the tests use. Each is a handler of a task.

type addReq struct{ A, B int }

var adder = pool.Register("add", func(ctx context.Context, r addReq) (int, error) {
	return r.A + r.B, nil
})

// A job tells the test worker what to do.
type job struct {
	Sleep   time.Duration // sleep this long (or until cancelled)
	Fail    string        // return an error with this message
	Path    bool          // return an *fs.PathError
	Panic   string        // panic with this value
	Exit    int           // exit the process with this status (crash); -1 means SIGKILL itself
	Hang    bool          // never return, ignoring cancellation
	Leak    int           // keep this many bytes for the life of the process
	Stderr  string        // write this to stderr first
	Value   string        // the response
	Pid     bool          // respond with the worker's pid
	Once    string        // crash (exit 3) unless this file exists, creating it
	NoTerm  bool          // ignore SIGTERM first
	Recycle string        // ask to be recycled, for this reason
}

var leaked [][]byte

var tester = pool.Register("test", func(ctx context.Context, j job) (string, error) {
	if j.Stderr != "" {
		fmt.Fprint(os.Stderr, j.Stderr)
	}
	if j.NoTerm {
		signal.Ignore(syscall.SIGTERM)
	}
	if j.Recycle != "" {
		if err := pool.Recycle(ctx, j.Recycle); err != nil {
			return "", err
		}
	}
	if j.Once != "" {
		if _, err := os.Stat(j.Once); err != nil {
			os.WriteFile(j.Once, nil, 0o600)
			os.Exit(3)
		}
	}
	if j.Leak > 0 {
		leaked = append(leaked, bytes.Repeat([]byte{1}, j.Leak))
	}
	switch {
	case j.Exit > 0:
		os.Exit(j.Exit)
	case j.Exit < 0:
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	case j.Hang:
		select {}
	case j.Panic != "":
		panic(j.Panic)
	case j.Path:
		_, err := os.Open("/nonexistent/file")
		return "", err
	case j.Fail != "":
		return "", errors.New(j.Fail)
	}
	if j.Sleep > 0 {
		select {
		case <-time.After(j.Sleep):
		case <-ctx.Done():
			return "", fmt.Errorf("cancelled: %w", ctx.Err())
		}
	}
	if j.Pid {
		return strconv.Itoa(os.Getpid()), nil
	}
	return j.Value, nil
})

// newPool starts a pool and closes it at the end of the test, checking
// that it left no goroutine behind.
func newPool[Req, Resp any](t *testing.T, w pool.Worker[Req, Resp], o *pool.Options) *pool.Pool[Req, Resp] {
	t.Helper()
	p, err := pool.New(w, o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func leakCheck(t *testing.T) {
	t.Helper()
	before := goleak.IgnoreCurrent() // now: at Cleanup every goroutine left would be current
	t.Cleanup(func() {
		goleak.VerifyNone(t, before, goleak.IgnoreAnyFunction("github.com/childproc/childproc/internal/guardian.reapGuardian"))
	})
}

func quiet() *childproc.Options {
	return &childproc.Options{Stdio: []any{nil, nil, childproc.Ignore}}
}

func TestDoAdds(t *testing.T) {
	p := newPool(t, adder, &pool.Options{Size: 2})
	for i := range 100 {
		got, err := p.Do(context.Background(), addReq{i, 1})
		if err != nil || got != i+1 {
			t.Fatalf("Do(%d+1) = %d, %v", i, got, err)
		}
	}
	s := p.Stats()
	if s.Workers != 2 || s.Done != 100 || s.Failed != 0 {
		t.Fatalf("Stats = %+v", s)
	}
}

func TestTaskErrors(t *testing.T) {
	p := newPool(t, tester, &pool.Options{Size: 1, Child: quiet()})
	ctx := context.Background()
	pid1, _ := p.Do(ctx, job{Value: "x"})
	cases := []struct {
		j    job
		name string
		msg  string
	}{
		{job{Fail: "bad thing"}, "*errors.errorString", "bad thing"},
		{job{Path: true}, "*fs.PathError", "open /nonexistent/file: no such file or directory"},
		{job{Panic: "boom"}, "panic", "boom"},
	}
	for _, c := range cases {
		_, err := p.Do(ctx, c.j)
		var te *pool.TaskError
		if !errors.As(err, &te) || te.Name != c.name || te.Message != c.msg {
			t.Errorf("Do(%+v) = %v (%#v), want TaskError %s: %s", c.j, err, err, c.name, c.msg)
		}
		if c.name == "panic" && !strings.Contains(te.Stack, "goroutine") {
			t.Errorf("panic without a stack: %q", te.Stack)
		}
	}
	if s := p.Stats(); s.Restarts != 0 || s.Failed != 3 || s.Done != 1 {
		t.Fatalf("after task errors: %+v (pid %v)", s, pid1)
	}
	_ = fs.ErrNotExist
}
