package childproc_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/childproc/childproc"
)

// The I/O tests that look in /proc at a child's descriptors, or at the
// processes (and goroutines) left behind.

// The same io.Writer for stdout and stderr gets one Write at a time: both
// fds are one pipe, as os/exec makes them.
func TestStdioSameWriter(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	c, err := childproc.Spawn(t.Context(), "sh", []string{"-c",
		`readlink /proc/$$/fd/1; readlink /proc/$$/fd/2 >&2; i=0; while [ $i -lt 20000 ]; do echo o$i; echo e$i >&2; i=$((i+1)); done`},
		&childproc.Options{Stdio: []any{childproc.Ignore, &buf, &buf}})
	if err != nil {
		t.Fatal(err)
	}
	if err := waitFor(t, c); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 40002 {
		t.Fatalf("%d lines, want 40002", len(lines))
	}
	if lines[0] != lines[1] || !strings.HasPrefix(lines[0], "pipe:") {
		t.Fatalf("fd 1 is %q, fd 2 is %q: not one pipe", lines[0], lines[1])
	}
	for i, l := range lines[2:] {
		want := "o" + strconv.Itoa(i/2)
		if i%2 == 1 {
			want = "e" + strconv.Itoa(i/2)
		}
		if l != want {
			t.Fatalf("line %d is %q, want %q", i+2, l, want)
		}
	}
}

// Another child's Stdout as stdin is the pipe itself: `cat | head -n1`,
// and the parent then reads the rest of cat's output, which head did not
// read and nobody copied away.
func TestStdoutAsStdin(t *testing.T) {
	t.Parallel()
	cat, err := childproc.Spawn(t.Context(), "cat", nil, &childproc.Options{Stdio: []any{childproc.Pipe, childproc.Pipe, childproc.Ignore}})
	if err != nil {
		t.Fatal(err)
	}
	head, err := childproc.Spawn(t.Context(), "sh", []string{"-c", "readlink /proc/$$/fd/0 >&2; exec head -n1"},
		&childproc.Options{Stdio: []any{cat.Stdout, childproc.Pipe, childproc.Pipe}})
	if err != nil {
		t.Fatal(err)
	}
	catOut, err := os.Readlink("/proc/" + strconv.Itoa(cat.Pid()) + "/fd/1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(cat.Stdin, "first\n"); err != nil {
		t.Fatal(err)
	}
	if out := readAll(t, head.Stdout); out != "first\n" {
		t.Fatalf("head printed %q", out)
	}
	if fd0 := strings.TrimSpace(readAll(t, head.Stderr)); fd0 != catOut {
		t.Fatalf("head's fd 0 is %q, cat's stdout %q", fd0, catOut)
	}
	if err := waitFor(t, head); err != nil {
		t.Fatal(err)
	}
	io.WriteString(cat.Stdin, "second\nthird\n")
	cat.Stdin.Close()
	if rest := readAll(t, cat.Stdout); rest != "second\nthird\n" {
		t.Fatalf("the parent read %q after head exited", rest)
	}
	if err := waitFor(t, cat); err != nil {
		t.Fatal(err)
	}
}

// A stopped child whose grandchild escaped and holds the pipes: once the
// child has exited Wait waits at most StopWaitDelay for the stdio, then
// cuts it, keeping what the pipes held; on Spawn as on Exec, after
// Timeout and after MaxBuffer. The escaped grandchild ignores SIGTERM and
// no SIGKILL follows, so that the bound, not a kill, ends the wait.
func TestStopBoundsWait(t *testing.T) {
	t.Parallel()
	const force = 300 * time.Millisecond
	bound := force + childproc.StopWaitDelay + 2500*time.Millisecond // generous for a loaded machine, short of the 5 s of DefaultForceKillAfter
	wantCut := func(t *testing.T, err error, took time.Duration) {
		t.Helper()
		if took > bound {
			t.Fatalf("Wait took %v, more than ForceKillAfter + StopWaitDelay", took)
		}
		if !strings.Contains(err.Error(), "stdio still open "+childproc.StopWaitDelay.String()+" after exit, cut") {
			t.Fatalf("the error does not say the stdio was cut: %v", err)
		}
	}

	// The shape of the report: a shell that ignores SIGTERM, Timeout,
	// SIGKILL after ForceKillAfter; Wait returns within ForceKillAfter
	// plus StopWaitDelay, and the stdout read ends with the cut.
	t.Run("Spawn", func(t *testing.T) {
		t.Parallel()
		start := time.Now()
		c, err := childproc.Spawn(t.Context(), "sh", []string{"-c", escapee(1) + " trap '' TERM; sleep 30"},
			&childproc.Options{Timeout: 200 * time.Millisecond, ForceKillAfter: force, Stdio: []any{childproc.Ignore, childproc.Pipe, childproc.Pipe}})
		if err != nil {
			t.Fatal(err)
		}
		err = waitFor(t, c)
		took := time.Since(start)
		out, rerr := readResult(t, c.Stdout)
		defer killEscapee(out)
		if e := asError(t, err); !e.TimedOut || !e.ForceKilled {
			t.Fatalf("%v", err)
		}
		if escapeePid(out) == 0 {
			t.Fatalf("stdout %q: what the pipe held was not kept", out)
		}
		if !alive(escapeePid(out)) {
			t.Fatalf("the escaped grandchild (setsid, env -i) died: the cut is what must end this wait")
		}
		wantCut(t, err, took)
		if !errors.Is(rerr, childproc.ErrWaitDelay) {
			t.Fatalf("the read after the cut ended with %v", rerr)
		}
	})

	t.Run("Exec", func(t *testing.T) {
		t.Parallel()
		start := time.Now()
		c, err := childproc.Exec(t.Context(), escapee(1)+" exec sleep 30", &childproc.Options{Timeout: 200 * time.Millisecond, ForceKillAfter: -1})
		if err != nil {
			t.Fatal(err)
		}
		stdout, _, err := output(t, c)
		took := time.Since(start)
		defer killEscapee(stdout)
		if e := asError(t, err); !e.TimedOut {
			t.Fatalf("%v", err)
		}
		wantCut(t, err, took)
		if escapeePid(stdout) == 0 {
			t.Fatalf("stdout %q: what the pipe held was not kept", stdout)
		}
	})

	t.Run("MaxBuffer", func(t *testing.T) {
		t.Parallel()
		start := time.Now()
		c, err := childproc.Exec(t.Context(), escapee(2)+" exec yes", &childproc.Options{MaxBuffer: 100, ForceKillAfter: -1})
		if err != nil {
			t.Fatal(err)
		}
		stdout, stderr, err := output(t, c)
		took := time.Since(start)
		defer killEscapee(stderr)
		wantCode(t, err, childproc.CodeMaxBuffer)
		wantCut(t, err, took)
		if escapeePid(stderr) == 0 || len(stdout) != 100 {
			t.Fatalf("stdout %d bytes, stderr %q", len(stdout), stderr)
		}
	})
}

// WaitDelay bounds Wait even when an io.Writer entry blocks forever in
// Write; the copier left behind ends once the Write returns.
func TestWaitDelayBlockedWriter(t *testing.T) {
	ignore := append([]goleak.Option{goleak.IgnoreCurrent()}, lastingGoroutines...)
	w := blockingWriter{make(chan struct{})}
	start := time.Now()
	c, err := childproc.Spawn(t.Context(), "echo", []string{"hi"}, &childproc.Options{WaitDelay: 300 * time.Millisecond, Stdio: []any{childproc.Ignore, w, childproc.Ignore}})
	if err != nil {
		t.Fatal(err)
	}
	err = waitFor(t, c)
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("Wait took %v with WaitDelay 300ms", took)
	}
	wantCode(t, err, childproc.CodeWaitDelay)
	close(w.release)
	var gerr error
	if !eventually(func() bool { gerr = goleak.Find(ignore...); return gerr == nil }) {
		t.Fatalf("the copier did not end once its Write returned: %v", gerr)
	}
}

// escapee is a shell fragment that leaves behind a process in a session
// of its own, with an empty environment and SIGTERM ignored, that prints
// its pid to fd and then holds the child's stdout and stderr for 30 s.
func escapee(fd int) string {
	return fmt.Sprintf(`(setsid env -i /bin/sh -c 'trap "" TERM; echo $$ >&%d; exec sleep 30' &);`, fd)
}

// escapeePid returns the pid on the first line of out.
func escapeePid(out []byte) int {
	line, _, _ := strings.Cut(string(out), "\n")
	pid, _ := strconv.Atoi(strings.TrimSpace(line))
	return pid
}

// killEscapee kills the process whose pid is the first line of out.
func killEscapee(out []byte) {
	if pid := escapeePid(out); pid > 0 {
		syscall.Kill(pid, syscall.SIGKILL)
	}
}

// blockingWriter blocks every Write until release is closed.
type blockingWriter struct{ release chan struct{} }

func (w blockingWriter) Write(p []byte) (int, error) {
	<-w.release
	return len(p), nil
}
