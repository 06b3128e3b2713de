package childproc_test

import (
	"bytes"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/childproc/childproc"
)

// The stdio tests that check what the child sees with readlink on
// /proc/<pid>/fd.

func TestStdioIgnoreIsDevNull(t *testing.T) {
	t.Parallel()
	// fds 0 and 2 ignored, read through stdout.
	out := fdsOfShell(t, "readlink /proc/$$/fd/0 /proc/$$/fd/2", []any{childproc.Ignore, childproc.Pipe, childproc.Ignore}, 1)
	if out != "/dev/null\n/dev/null\n" {
		t.Fatalf("ignored fds 0 and 2: %q", out)
	}
	// fd 1 ignored, read through stderr.
	out = fdsOfShell(t, "x=$(readlink /proc/$$/fd/1); echo \"$x\" >&2", []any{childproc.Ignore, childproc.Ignore, childproc.Pipe}, 2)
	if out != "/dev/null\n" {
		t.Fatalf("ignored fd 1: %q", out)
	}
	c, err := childproc.Spawn(t.Context(), "true", nil, &childproc.Options{Stdio: []any{childproc.Ignore, childproc.Ignore, childproc.Ignore}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Stdin != nil || c.Stdout != nil || c.Stderr != nil || c.Stdio(0) != nil || c.Stdio(1) != nil || c.Stdio(2) != nil {
		t.Fatal("ignored stdio has parent ends")
	}
	waitFor(t, c)
}

// Ignore from fd 3 up leaves the fd closed; so does nil there.
func TestStdioIgnoreAbove2IsClosed(t *testing.T) {
	t.Parallel()
	script := "for fd in 3 4 5; do [ -e /proc/$$/fd/$fd ] && echo $fd open || echo $fd closed; done"
	out := fdsOfShell(t, script, []any{childproc.Ignore, childproc.Pipe, childproc.Ignore, childproc.Ignore, nil, childproc.Ignore}, 1)
	if out != "3 closed\n4 closed\n5 closed\n" {
		t.Fatalf("%q", out)
	}
}

// An extra Pipe at fd 3 is a socket: the child can write it and read it,
// and the parent reads and writes it through Stdio(3).
func TestStdioExtraPipeIsDuplexSocket(t *testing.T) {
	t.Parallel()
	c, err := childproc.Spawn(t.Context(), "sh", []string{"-c", "readlink /proc/$$/fd/3; echo three >&3; read x <&3; echo \"got $x\""},
		&childproc.Options{Stdio: []any{childproc.Ignore, childproc.Pipe, childproc.Ignore, childproc.Pipe}})
	if err != nil {
		t.Fatal(err)
	}
	p := c.Stdio(3)
	if p == nil {
		t.Fatal("Stdio(3) is nil")
	}
	var line [6]byte
	if _, err := io.ReadFull(p, line[:]); err != nil || string(line[:]) != "three\n" {
		t.Fatalf("read fd 3: %q %v", line, err)
	}
	if _, err := p.Write([]byte("ping\n")); err != nil {
		t.Fatal(err)
	}
	out := readAll(t, c.Stdout)
	if !strings.HasPrefix(out, "socket:[") || !strings.HasSuffix(out, "]\ngot ping\n") {
		t.Fatalf("stdout %q", out)
	}
	if err := waitFor(t, c); err != nil {
		t.Fatal(err)
	}
}

// An int entry shares that parent fd (a dup of it).
func TestStdioIntFd(t *testing.T) {
	t.Parallel()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	c, err := childproc.Spawn(t.Context(), "sh", []string{"-c", "echo to-fd; echo to-3 >&3"},
		&childproc.Options{Stdio: []any{childproc.Ignore, int(w.Fd()), childproc.Ignore, int(w.Fd())}})
	w.Close() // the child has its own copies
	if err != nil {
		t.Fatal(err)
	}
	if c.Stdout != nil {
		t.Fatal("an fd entry has a parent end")
	}
	if out := readAll(t, r); out != "to-fd\nto-3\n" {
		t.Fatalf("%q", out)
	}
	if err := waitFor(t, c); err != nil {
		t.Fatal(err)
	}
	// Inherit at 0-2 is the parent's own fd i.
	want, _ := os.Readlink("/proc/self/fd/1")
	out := fdsOfShell(t, "x=$(readlink /proc/$$/fd/1); echo \"$x\" >&2", []any{childproc.Ignore, childproc.Inherit, childproc.Pipe}, 2)
	if out != want+"\n" {
		t.Fatalf("inherited fd 1 is %q, ours %q", out, want)
	}
	out = fdsOfShell(t, "x=$(readlink /proc/$$/fd/1); echo \"$x\" >&2", []any{childproc.Ignore, 1, childproc.Pipe}, 2)
	if out != want+"\n" {
		t.Fatalf("fd 1 given as int is %q, ours %q", out, want)
	}
}

// Inherit above 2 shares the parent's fd of that number when it is open
// (Node shares it; its docs say 'ignore').
func TestStdioInheritAbove2(t *testing.T) {
	t.Parallel()
	f, err := os.CreateTemp(t.TempDir(), "x")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fd := int(f.Fd())
	stdio := make([]any, fd+1)
	stdio[0], stdio[1], stdio[2] = childproc.Ignore, childproc.Pipe, childproc.Ignore
	stdio[fd] = childproc.Inherit
	out := fdsOfShell(t, "readlink /proc/$$/fd/"+strconv.Itoa(fd), stdio, 1)
	if out != f.Name()+"\n" {
		t.Fatalf("inherited fd %d is %q, want %q", fd, out, f.Name())
	}
}

// A child's Stdin given as another child's stdio entry is the same pipe,
// not a copy through the parent (Node passes a stream's handle).
func TestStdinSharedAsStdio(t *testing.T) {
	cat, err := childproc.Spawn(t.Context(), "cat", nil, &childproc.Options{Stdio: []any{childproc.Pipe, childproc.Ignore, childproc.Ignore}})
	if err != nil {
		t.Fatal(err)
	}
	defer cat.Wait()
	defer cat.Stdin.Close()
	catIn, err := os.Readlink("/proc/" + strconv.Itoa(cat.Pid()) + "/fd/0")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	c, err := childproc.Spawn(t.Context(), "sh", []string{"-c", "x=$(readlink /proc/$$/fd/1); echo \"$x\" >&2"}, &childproc.Options{Stdio: []any{childproc.Ignore, cat.Stdin, &out}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Wait(); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(out.String()); got != catIn {
		t.Fatalf("child's fd 1 is %q, cat's stdin is %q", got, catIn)
	}
}

// fdsOfShell runs script in sh with stdio and returns what it printed on
// the pipe at outFd (1 or 2).
func fdsOfShell(t *testing.T, script string, stdio []any, outFd int) string {
	t.Helper()
	c, err := childproc.Spawn(t.Context(), "sh", []string{"-c", script}, &childproc.Options{Stdio: stdio})
	if err != nil {
		t.Fatal(err)
	}
	out := readAll(t, c.Stdio(outFd))
	if err := waitFor(t, c); err != nil {
		t.Fatal(err)
	}
	return out
}
