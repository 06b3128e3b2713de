//go:build unix

package childproc_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/childproc/childproc"
)

// Every form of a stdio entry (Options.Stdio), seen from both sides.

// formsSpawn starts sh -c script with stdio, failing the test if it cannot.
func formsSpawn(t *testing.T, script string, stdio []any) *childproc.Child {
	t.Helper()
	c, err := childproc.Spawn(t.Context(), "sh", []string{"-c", script}, &childproc.Options{Stdio: stdio})
	if err != nil {
		t.Fatalf("spawn %q: %v", script, err)
	}
	return c
}

// Node: an integer entry shares the parent's fd; an *os.File (Node's
// fs stream with an fd) is shared as is.
func TestStdioFormsFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()

	// An int fd.
	f, err := os.Create(filepath.Join(dir, "int"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c := formsSpawn(t, "echo to-int; echo err-to-int >&2", []any{childproc.Ignore, int(f.Fd()), int(f.Fd())})
	if c.Stdout != nil || c.Stderr != nil {
		t.Fatal("an int entry gave the parent an end")
	}
	if err := waitFor(t, c); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(f.Name()); string(b) != "to-int\nerr-to-int\n" {
		t.Fatalf("int fd: %q", b)
	}
	// Our fd is still ours.
	if _, err := f.WriteString("parent\n"); err != nil {
		t.Fatalf("our fd after the child: %v", err)
	}

	// An *os.File: a temp file the child writes into, another it reads.
	out, err := os.CreateTemp(dir, "out")
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	in := filepath.Join(dir, "in")
	os.WriteFile(in, []byte("from a file\n"), 0o644)
	inf, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer inf.Close()
	c = formsSpawn(t, "cat; echo extra >&3", []any{inf, out, childproc.Ignore, out})
	if c.Stdin != nil || c.Stdout != nil || c.Stdio(3) != nil {
		t.Fatal("an *os.File entry gave the parent an end")
	}
	if err := waitFor(t, c); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(out.Name()); string(b) != "from a file\nextra\n" {
		t.Fatalf("*os.File: %q", b)
	}
	// The same file works for SpawnSync, which then has no output.
	r := childproc.SpawnSync("echo", []string{"sync"}, &childproc.Options{Stdio: []any{childproc.Ignore, out, childproc.Ignore}})
	if r.Err != nil || r.Stdout != nil {
		t.Fatalf("spawnSync to a file: %+v", r)
	}
	if b, _ := os.ReadFile(out.Name()); string(b) != "from a file\nextra\nsync\n" {
		t.Fatalf("*os.File after spawnSync: %q", b)
	}
}

// Node: a Stream entry. childproc copies from an io.Reader and to an
// io.Writer through pipes, and Wait waits for the copies.
func TestStdioFormsReadersAndWriters(t *testing.T) {
	t.Parallel()
	var stdout, stderr, fd3 bytes.Buffer
	c := formsSpawn(t, "tr a-z A-Z; echo err >&2; echo x >&3",
		[]any{strings.NewReader("from a reader\n"), &stdout, &stderr, &fd3})
	if c.Stdin != nil || c.Stdout != nil || c.Stderr != nil || c.Stdio(3) != nil {
		t.Fatal("a reader or writer entry gave the parent an end")
	}
	if err := waitFor(t, c); err != nil {
		t.Fatal(err)
	}
	if stdout.String() != "FROM A READER\n" || stderr.String() != "err\n" || fd3.String() != "x\n" {
		t.Fatalf("stdout %q stderr %q fd 3 %q", stdout.String(), stderr.String(), fd3.String())
	}

	// A reader-only value at fd 3 is the child's input there.
	stdout.Reset()
	c = formsSpawn(t, "cat <&3", []any{childproc.Ignore, &stdout, childproc.Ignore, strings.NewReader("fd 3 input")})
	if err := waitFor(t, c); err != nil {
		t.Fatal(err)
	}
	if stdout.String() != "fd 3 input" {
		t.Fatalf("reader at fd 3: %q", stdout.String())
	}

	// Larger than a pipe's buffer, both ways.
	big := bytes.Repeat([]byte("0123456789abcdef"), 64*1024)
	stdout.Reset()
	c = formsSpawn(t, "cat", []any{bytes.NewReader(big), &stdout, childproc.Ignore})
	if err := waitFor(t, c); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(stdout.Bytes(), big) {
		t.Fatalf("1 MiB through cat: got %d bytes", stdout.Len())
	}
}

// Node resumes streams nobody reads, so 'close' always comes; childproc
// keeps what the child wrote for later reads.
func TestStdioFormsUnreadOutput(t *testing.T) {
	t.Parallel()
	c := formsSpawn(t, "echo out; echo err >&2; echo extra >&3",
		[]any{childproc.Ignore, childproc.Pipe, childproc.Pipe, childproc.Pipe})
	if err := waitFor(t, c); err != nil {
		t.Fatal(err)
	}
	if out := readAll(t, c.Stdout); out != "out\n" {
		t.Fatalf("stdout after Wait: %q", out)
	}
	if out := readAll(t, c.Stderr); out != "err\n" {
		t.Fatalf("stderr after Wait: %q", out)
	}
	if out := readAll(t, c.Stdio(3)); out != "extra\n" {
		t.Fatalf("fd 3 after Wait: %q", out)
	}
	// A second read is at the end.
	if n, err := c.Stdout.Read(make([]byte, 8)); n != 0 || err != io.EOF {
		t.Fatalf("second read: %d %v", n, err)
	}
}
