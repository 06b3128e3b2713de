//go:build unix

package childproc_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/childproc/childproc"
)

// The I/O of a child: output that outlives the child, MaxBuffer, shared
// writers, pipes between children, stdin errors, the bounds of Wait.

// randomFile writes size pseudo-random bytes to a file and returns its
// path and content.
func randomFile(t *testing.T, size int) (string, []byte) {
	t.Helper()
	b := make([]byte, size)
	r := rand.NewChaCha8([32]byte{1, 2, 3})
	r.Read(b)
	path := filepath.Join(t.TempDir(), "data")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path, b
}

// A child that exits while a grandchild still writes its stdout: a reader
// that reads from the start gets every byte; one that starts after Wait
// gets the first MaxBuffer bytes and then ErrTruncated, never a short
// read that looks complete; one that starts in between gets either.
func TestStdoutOutlivesChild(t *testing.T) {
	t.Parallel()
	const size = 5 << 20
	path, want := randomFile(t, size)
	script := "cat " + path + " & exit 0"
	spawn := func(t *testing.T) *childproc.Child {
		c, err := childproc.Spawn(t.Context(), "sh", []string{"-c", script}, &childproc.Options{Stdio: []any{childproc.Ignore, childproc.Pipe, childproc.Ignore}})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}

	t.Run("read at once", func(t *testing.T) {
		t.Parallel()
		c := spawn(t)
		got, err := readResult(t, c.Stdout)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("read %d of %d bytes (equal %v), %v", len(got), size, bytes.Equal(got, want), err)
		}
		if err := waitFor(t, c); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("read after Wait", func(t *testing.T) {
		t.Parallel()
		c := spawn(t)
		if err := waitFor(t, c); err != nil {
			t.Fatal(err)
		}
		got, err := readResult(t, c.Stdout)
		if !errors.Is(err, childproc.ErrTruncated) || !bytes.Equal(got, want[:childproc.DefaultMaxBuffer]) {
			t.Fatalf("read %d bytes (the first MaxBuffer: %v), %v", len(got), bytes.Equal(got, want[:min(len(got), size)]), err)
		}
		discarded := strconv.Itoa(size - childproc.DefaultMaxBuffer)
		if !strings.Contains(err.Error(), "stdout") || !strings.Contains(err.Error(), discarded+" bytes") {
			t.Fatalf("message %q does not say what was discarded (%s bytes)", err, discarded)
		}
	})

	t.Run("read 50ms late", func(t *testing.T) {
		t.Parallel()
		c := spawn(t)
		time.Sleep(50 * time.Millisecond)
		got, err := readResult(t, c.Stdout)
		switch {
		case err == nil && bytes.Equal(got, want):
		case errors.Is(err, childproc.ErrTruncated) && bytes.Equal(got, want[:childproc.DefaultMaxBuffer]):
		default:
			t.Fatalf("read %d of %d bytes, %v", len(got), size, err)
		}
		if err := waitFor(t, c); err != nil {
			t.Fatal(err)
		}
	})
}

// A reader that reads slowly after the child exited holds Wait until it
// has read what does not fit in MaxBuffer: nothing is discarded behind
// its back.
func TestStdoutBackPressureAfterExit(t *testing.T) {
	t.Parallel()
	path, want := randomFile(t, 3<<20)
	c, err := childproc.Spawn(t.Context(), "sh", []string{"-c", "cat " + path + " & exit 0"},
		&childproc.Options{MaxBuffer: 64 << 10, Stdio: []any{childproc.Ignore, childproc.Pipe, childproc.Ignore}})
	if err != nil {
		t.Fatal(err)
	}
	first := make([]byte, 1000)
	if _, err := io.ReadFull(c.Stdout, first); err != nil {
		t.Fatal(err)
	}
	waitExited(t, c)
	time.Sleep(100 * time.Millisecond)
	select {
	case <-c.Done():
		t.Fatal("Wait returned while 3 MiB waited for a reader with MaxBuffer 64 KiB")
	default:
	}
	rest, err := readResult(t, c.Stdout)
	if err != nil || !bytes.Equal(append(first, rest...), want) {
		t.Fatalf("read %d bytes, %v", len(first)+len(rest), err)
	}
	if err := waitFor(t, c); err != nil {
		t.Fatal(err)
	}
}

// MaxBuffer on stderr keeps what the child wrote to stdout: the overflow
// no longer closes the other stream's pipe before its copier read it.
func TestExecMaxBufferKeepsOtherStream(t *testing.T) {
	t.Parallel()
	const runs = 40
	var wg sync.WaitGroup
	errs := make(chan string, runs)
	for range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := childproc.Exec(t.Context(), "echo out; exec yes err >&2", &childproc.Options{MaxBuffer: 50})
			if err != nil {
				errs <- err.Error()
				return
			}
			stdout, stderr, err := output(t, c)
			if e := asErr(err); e.Code != childproc.CodeMaxBuffer || string(stdout) != "out\n" || len(stderr) != 50 {
				errs <- fmt.Sprintf("stdout %q, %d bytes of stderr, %v", stdout, len(stderr), err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// A Stdout that holds drained bytes, or has ended, is still a valid stdin:
// the child reads what is left, then EOF.
func TestStdoutAsStdinAfterExit(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ script, want string }{{"echo hello", "hello\n"}, {"true", ""}} {
		src, err := childproc.Spawn(t.Context(), "sh", []string{"-c", tc.script}, &childproc.Options{Stdio: []any{childproc.Ignore, childproc.Pipe, childproc.Ignore}})
		if err != nil {
			t.Fatal(err)
		}
		if err := waitFor(t, src); err != nil {
			t.Fatal(err)
		}
		out, _, err := spawnOut(t, "cat", nil, &childproc.Options{Stdio: []any{src.Stdout, childproc.Pipe, childproc.Pipe}})
		if err != nil || out != tc.want {
			t.Fatalf("%s: cat read %q, %v", tc.script, out, err)
		}
	}
}

// failingReader yields some bytes, then fails.
type failingReader struct {
	data []byte
	err  error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// An error from a stdin io.Reader is what Wait returns, as in os/exec; a
// child that stops reading (EPIPE) is not an error.
func TestStdinReaderError(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	c, err := childproc.Spawn(t.Context(), "wc", []string{"-c"}, &childproc.Options{Stdio: []any{&failingReader{data: []byte("abc"), err: boom}, childproc.Pipe, childproc.Ignore}})
	if err != nil {
		t.Fatal(err)
	}
	out := readAll(t, c.Stdout)
	err = waitFor(t, c)
	if !errors.Is(err, boom) || strings.TrimSpace(out) != "3" || !strings.Contains(err.Error(), "stdin") {
		t.Fatalf("wc read %q; Wait: %v", out, err)
	}
	c, err = childproc.Spawn(t.Context(), "head", []string{"-c", "1"}, &childproc.Options{Stdio: []any{bytes.NewReader(make([]byte, 8<<20)), childproc.Ignore, childproc.Ignore}})
	if err != nil {
		t.Fatal(err)
	}
	if err := waitFor(t, c); err != nil {
		t.Fatalf("a child that stopped reading: %v", err)
	}
}

// Exec and ExecFile without Input read the null device, as os/exec's
// Output does: a program that reads stdin gets EOF at once.
func TestExecStdinIsNull(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	c, err := childproc.ExecFile(ctx, "wc", []string{"-l"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	stdout, _, err := output(t, c)
	if err != nil || strings.TrimSpace(string(stdout)) != "0" || c.Stdin != nil {
		t.Fatalf("ExecFile wc -l: %q %v (Stdin %v)", stdout, err, c.Stdin)
	}
	c, err = childproc.Exec(ctx, "wc -l", nil)
	if err != nil {
		t.Fatal(err)
	}
	stdout, _, err = output(t, c)
	if err != nil || strings.TrimSpace(string(stdout)) != "0" || c.Stdin != nil {
		t.Fatalf("Exec wc -l: %q %v", stdout, err)
	}
}

// nilReader is an io.Reader whose nil pointer a caller may pass by mistake.
type nilReader struct{ b []byte }

func (r *nilReader) Read(p []byte) (int, error) { return copy(p, r.b), io.EOF }

// A typed nil Stdio entry is an *Error naming it, before anything starts,
// not a panic in a copier.
func TestStdioTypedNil(t *testing.T) {
	t.Parallel()
	nils := []any{(*bytes.Buffer)(nil), (*os.File)(nil), (*strings.Reader)(nil), (*nilReader)(nil), (*strings.Builder)(nil)}
	for i := range 4 {
		for _, e := range nils {
			stdio := []any{childproc.Ignore, childproc.Ignore, childproc.Ignore, childproc.Ignore}
			stdio[i] = e
			c, err := childproc.Spawn(t.Context(), "true", nil, &childproc.Options{Stdio: stdio})
			if c != nil {
				c.Wait()
				t.Fatalf("stdio[%d] = %T(nil) started a child", i, e)
			}
			if e := wantCode(t, err, childproc.CodeInvalidArgValue); !strings.Contains(e.Error(), "stdio["+strconv.Itoa(i)+"]") || !strings.Contains(e.Error(), "nil") {
				t.Fatalf("message %q", e)
			}
			r := childproc.SpawnSync("true", nil, &childproc.Options{Stdio: stdio})
			if r.Pid != 0 {
				t.Fatalf("SpawnSync with stdio[%d] = %T(nil) started a child", i, e)
			}
			wantCode(t, r.Err, childproc.CodeInvalidArgValue)
		}
	}
}

// The buffered forms keep what they are given exactly, past the sizes
// where the buffer grows in chunks, and the first MaxBuffer bytes when it
// overflows.
func TestExecLargeOutput(t *testing.T) {
	t.Parallel()
	path, want := randomFile(t, 21<<20+12345)
	stdout, _, err := portExecFile(t, "cat", []string{path}, &childproc.Options{MaxBuffer: math.MaxInt})
	if err != nil || !bytes.Equal(stdout, want) {
		t.Fatalf("%d of %d bytes (equal %v), %v", len(stdout), len(want), bytes.Equal(stdout, want), err)
	}
	limit := 9<<20 + 7
	stdout, _, err = portExecFile(t, "cat", []string{path}, &childproc.Options{MaxBuffer: limit})
	wantCode(t, err, childproc.CodeMaxBuffer)
	if !bytes.Equal(stdout, want[:limit]) {
		t.Fatalf("%d bytes kept, want the first %d", len(stdout), limit)
	}
}

// A Stdout that the drain is reading (a grandchild holds it, silent) is
// still a valid stdin, and Spawn does not wait for the drain: the child
// gets what the grandchild writes later.
func TestStdoutAsStdinWhileDraining(t *testing.T) {
	t.Parallel()
	src, err := childproc.Spawn(t.Context(), "sh", []string{"-c", "(sleep 1; echo late) & exit 0"}, &childproc.Options{Stdio: []any{childproc.Ignore, childproc.Pipe, childproc.Ignore}})
	if err != nil {
		t.Fatal(err)
	}
	waitExited(t, src)
	time.Sleep(100 * time.Millisecond) // the drain now waits in the pipe
	start := time.Now()
	cat, err := childproc.Spawn(t.Context(), "cat", nil, &childproc.Options{Stdio: []any{src.Stdout, childproc.Pipe, childproc.Ignore}})
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 800*time.Millisecond {
		t.Fatalf("Spawn took %v: it waited for the drain", took)
	}
	if out := readAll(t, cat.Stdout); out != "late\n" {
		t.Fatalf("cat read %q", out)
	}
	for _, c := range []*childproc.Child{cat, src} {
		if err := waitFor(t, c); err != nil {
			t.Fatal(err)
		}
	}
}

// Once the child has exited, a grandchild's output still reaches a reader
// as it is written, not when the pipe reaches its end: the drain that runs
// after the exit never holds up a Read.
func TestGrandchildOutputFlowsAfterExit(t *testing.T) {
	c, err := childproc.Spawn(context.Background(), "sh", []string{"-c",
		"(for i in 1 2 3 4 5 6 7 8 9 10; do echo line$i; sleep 0.3; done) & exit 0"},
		&childproc.Options{Stdio: []any{childproc.Ignore, childproc.Pipe, childproc.Ignore}})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	r := bufio.NewReader(c.Stdout)
	var at []time.Duration
	for {
		if _, err := r.ReadString('\n'); err != nil {
			break
		}
		at = append(at, time.Since(start))
	}
	if err := c.Wait(); err != nil {
		t.Fatal(err)
	}
	if len(at) != 10 {
		t.Fatalf("read %d lines, want 10", len(at))
	}
	// Written at about 0, 0.3, ..., 2.7 s; the 4th comes at about 0.9 s.
	if at[3] > 2*time.Second {
		t.Fatalf("the 4th line arrived after %v (lines at %v): held back until the end", at[3], at)
	}
}

// Lines yields a child's lines without their "\n" or "\r\n", the last
// one without a newline too, and stops reading when the loop stops; a
// read error is yielded once.
func TestLines(t *testing.T) {
	c, err := childproc.Spawn(t.Context(), "printf", []string{`one\ntwo\r\n\nlast`}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for line, err := range childproc.Lines(c.Stdout) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, line)
	}
	if want := []string{"one", "two", "", "last"}; fmt.Sprint(got) != fmt.Sprint(want) || len(got) != len(want) {
		t.Errorf("Lines = %q, want %q", got, want)
	}
	if err := waitFor(t, c); err != nil {
		t.Fatal(err)
	}

	c, err = childproc.Spawn(t.Context(), "sh", []string{"-c", "echo first; exec sleep 30"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for line := range childproc.Lines(c.Stdout) {
		if line != "first" {
			t.Errorf("first line %q", line)
		}
		break // the loop ends before the child does
	}
	c.Kill(nil)
	waitFor(t, c)

	boom := errors.New("boom")
	n := 0
	for line, err := range childproc.Lines(io.MultiReader(strings.NewReader("a\nb"), iotestErrReader{boom})) {
		switch n++; {
		case n <= 2 && err != nil, n == 3 && (line != "" || !errors.Is(err, boom)), n > 3:
			t.Errorf("yield %d: %q, %v", n, line, err)
		}
	}
	if n != 3 {
		t.Errorf("Lines over a failing reader yielded %d times, want 3", n)
	}
}

// iotestErrReader fails every Read with err.
type iotestErrReader struct{ err error }

func (r iotestErrReader) Read([]byte) (int, error) { return 0, r.err }

// A stream that discarded output keeps exactly its first MaxBuffer bytes:
// a reader who comes after the discard, and takes some of them while a
// grandchild writes on, gets none of what came later (which would follow
// the kept bytes with a gap between), only the kept bytes and then
// ErrTruncated. One who comes before any discard gets every byte.
func TestTruncatedStreamKeepsOnlyItsStart(t *testing.T) {
	dir := t.TempDir()
	const big = 2 << 20
	script := "(head -c " + strconv.Itoa(big) + " /dev/zero; while [ ! -e " + dir + "/go ]; do sleep 0.01; done; printf TAIL) & exit 0"
	c, err := childproc.Spawn(t.Context(), "sh", []string{"-c", script}, &childproc.Options{Stdio: []any{childproc.Ignore, childproc.Pipe, childproc.Ignore}})
	if err != nil {
		t.Fatal(err)
	}
	<-c.Exited()
	time.Sleep(300 * time.Millisecond) // the drain reads the 2 MiB: it keeps 1 MiB
	head := make([]byte, 64<<10)
	if _, err := io.ReadFull(c.Stdout, head); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go"), nil, 0o666); err != nil {
		t.Fatal(err)
	}
	rest, err := io.ReadAll(c.Stdout)
	got := append(head, rest...)
	switch {
	case err == nil && len(got) == big+len("TAIL") && bytes.HasSuffix(got, []byte("TAIL")):
		t.Log("the reader came before the drain discarded anything")
	case errors.Is(err, childproc.ErrTruncated) && bytes.Equal(got, make([]byte, childproc.DefaultMaxBuffer)):
	default:
		t.Errorf("read %d bytes (TAIL among them: %v), %v; want the first %d bytes and ErrTruncated", len(got), bytes.Contains(got, []byte("TAIL")), err, childproc.DefaultMaxBuffer)
	}
	if err := c.Wait(); err != nil {
		t.Fatal(err)
	}
}
