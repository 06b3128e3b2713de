package childproc_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/childproc/childproc"
)

// The stdio forms seen from the child's side, in /proc/<pid>/fd.

// Node: 'pipe', 'overlapped', a negative number and null/undefined at 0-2
// are all pipes.
func TestStdioFormsPipes(t *testing.T) {
	t.Parallel()
	for _, form := range []any{childproc.Pipe, childproc.Overlapped, nil, -1, -42} {
		c := formsSpawn(t, "cat; echo err >&2", []any{form, form, form})
		if c.Stdin == nil || c.Stdout == nil || c.Stderr == nil {
			t.Fatalf("%v: stdin %v stdout %v stderr %v", form, c.Stdin, c.Stdout, c.Stderr)
		}
		if c.Stdio(0) == nil || c.Stdio(1) == nil || c.Stdio(2) == nil {
			t.Fatalf("%v: Stdio(i) nil", form)
		}
		go func() {
			io.WriteString(c.Stdin, "in "+formsName(form))
			c.Stdin.Close()
		}()
		errc := make(chan string, 1)
		go func() { b, _ := io.ReadAll(c.Stderr); errc <- string(b) }()
		if out := readAll(t, c.Stdout); out != "in "+formsName(form) {
			t.Fatalf("%v: stdout %q", form, out)
		}
		if e := <-errc; e != "err\n" {
			t.Fatalf("%v: stderr %q", form, e)
		}
		if err := waitFor(t, c); err != nil {
			t.Fatalf("%v: %v", form, err)
		}
	}
	// A shorter Stdio is padded with pipes up to fd 2.
	c := formsSpawn(t, "echo out", []any{childproc.Ignore})
	if c.Stdin != nil || c.Stdout == nil || c.Stderr == nil {
		t.Fatal("Stdio of length 1 is not padded with pipes")
	}
	if out := readAll(t, c.Stdout); out != "out\n" {
		t.Fatalf("stdout %q", out)
	}
	waitFor(t, c)
}

func formsName(v any) string {
	if v == nil {
		return "nil"
	}
	if s, ok := v.(childproc.StdioMode); ok {
		return string(s)
	}
	return strconv.Itoa(v.(int))
}

// formsFdTargets starts sleep with stdio and returns what its fds 0-2
// refer to, read from outside (/proc/PID/fd: a shell that redirects to
// report them would change them), and whether it has an fd 3.
func formsFdTargets(t *testing.T, stdio []any) (targets []string, has3 bool) {
	t.Helper()
	c, err := childproc.Spawn(t.Context(), "sleep", []string{"30"}, &childproc.Options{Stdio: stdio})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { c.Kill(syscall.SIGKILL); waitFor(t, c) }()
	dir := "/proc/" + strconv.Itoa(c.Pid()) + "/fd/"
	for i := 0; i < 3; i++ {
		target, err := os.Readlink(dir + strconv.Itoa(i))
		if err != nil {
			target = "closed"
		}
		targets = append(targets, target)
	}
	// Wait out any file sleep opens while it starts (locale data).
	has3 = !eventually(func() bool {
		_, err := os.Readlink(dir + "3")
		return err != nil
	})
	return targets, has3
}

// Node: test-child-process-stdio ('ignore'): /dev/null at 0-2, nothing
// above.
func TestStdioFormsIgnore(t *testing.T) {
	t.Parallel()
	ig := childproc.Ignore
	c := formsSpawn(t, "exit 0", []any{ig, ig, ig})
	if c.Stdin != nil || c.Stdout != nil || c.Stderr != nil || c.Stdio(0) != nil || c.Stdio(2) != nil {
		t.Fatal("Ignore gave the parent an end")
	}
	waitFor(t, c)
	if got, _ := formsFdTargets(t, []any{ig, ig, ig}); !slices.Equal(got, []string{"/dev/null", "/dev/null", "/dev/null"}) {
		t.Fatalf("fds 0-2 with Ignore: %q", got)
	}
	if got, has3 := formsFdTargets(t, []any{ig, ig, ig, ig}); has3 || got[1] != "/dev/null" {
		t.Fatalf("Ignore at fd 3: fd 3 open %v, fds %q", has3, got)
	}
	// From fd 3 up, Ignore leaves the fd closed, even below a pipe, and
	// the child sees it so.
	c = formsSpawn(t, "readlink /proc/self/fd/3 || echo closed; readlink /proc/self/fd/4 >/dev/null && echo open",
		[]any{ig, childproc.Pipe, ig, ig, childproc.Pipe})
	if c.Stdio(3) != nil || c.Stdio(4) == nil {
		t.Fatal("Stdio(3) / Stdio(4)")
	}
	if out := readAll(t, c.Stdout); out != "closed\nopen\n" {
		t.Fatalf("fd 3 with Ignore: %q", out)
	}
	c.Stdio(4).Close()
	if err := waitFor(t, c); err != nil {
		t.Fatal(err)
	}
}

// Node: test-child-process-stdio-inherit: the child's fds 0-2 are ours.
func TestStdioFormsInherit(t *testing.T) {
	t.Parallel()
	var want []string
	for i := 0; i < 3; i++ {
		target, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(i))
		if err != nil {
			t.Skipf("our fd %d: %v", i, err)
		}
		want = append(want, target)
	}
	in := childproc.Inherit
	c := formsSpawn(t, "exit 0", []any{in, in, in})
	if c.Stdin != nil || c.Stdout != nil || c.Stderr != nil {
		t.Fatal("Inherit gave the parent an end")
	}
	waitFor(t, c)
	if got, _ := formsFdTargets(t, []any{in, in, in}); !slices.Equal(got, want) {
		t.Fatalf("inherited fds %q, ours %q", got, want)
	}
	// Mixed with other forms.
	if got, _ := formsFdTargets(t, []any{childproc.Ignore, in, childproc.Ignore}); got[0] != "/dev/null" || got[1] != want[1] || got[2] != "/dev/null" {
		t.Fatalf("ignore, inherit, ignore: %q", got)
	}
}

// Node: test-child-process-stdio-big-write, the extra 'pipe' of
// test-child-process-spawn-shell / test-child-process-stdio (fd 3): a
// duplex socket the parent both reads and writes.
func TestStdioFormsExtraPipe(t *testing.T) {
	t.Parallel()
	c := formsSpawn(t, `read line <&3; echo "got $line" >&3`,
		[]any{childproc.Ignore, childproc.Ignore, childproc.Ignore, childproc.Pipe})
	p := c.Stdio(3)
	if p == nil {
		t.Fatal("no Stdio(3)")
	}
	if _, err := io.WriteString(p, "hello\n"); err != nil {
		t.Fatal(err)
	}
	if out := readAll(t, p); out != "got hello\n" {
		t.Fatalf("fd 3: %q", out)
	}
	if err := waitFor(t, c); err != nil {
		t.Fatal(err)
	}
	if c.Stdio(4) != nil {
		t.Fatal("Stdio(4) past the entries")
	}
}

// formsChildFds waits until the fds of the child (read from outside, in
// /proc/PID/fd: the child opens nothing itself) are want plus any of
// extra, and returns the last list seen and whether it matched.
func formsChildFds(c *childproc.Child, want []string, extra map[string]bool) ([]string, bool) {
	fdDir := "/proc/" + strconv.Itoa(c.Pid()) + "/fd"
	var got []string
	ok := eventually(func() bool {
		entries, err := os.ReadDir(fdDir)
		if err != nil {
			return false
		}
		got = got[:0]
		var mine []string
		for _, e := range entries {
			got = append(got, e.Name())
			if !extra[e.Name()] {
				mine = append(mine, e.Name())
			}
		}
		byNumber := func(a, b string) int { x, _ := strconv.Atoi(a); y, _ := strconv.Atoi(b); return x - y }
		slices.SortFunc(got, byNumber)
		slices.SortFunc(mine, byNumber)
		return slices.Equal(mine, want)
	})
	return got, ok
}

// The child gets its stdio and the extra entries, and no other fd of the
// parent's, even while the parent holds files and pipes open.
func TestStdioFormsNoOtherFds(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var held []*os.File
	for i := 0; i < 5; i++ {
		f, err := os.Create(filepath.Join(dir, "held"+strconv.Itoa(i)))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		held = append(held, f)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()

	for _, tc := range []struct {
		stdio []any
		want  []string
	}{
		{[]any{childproc.Pipe, childproc.Pipe, childproc.Pipe}, []string{"0", "1", "2"}},
		{[]any{childproc.Pipe, childproc.Ignore, held[0], childproc.Pipe, childproc.Ignore, held[1]}, []string{"0", "1", "2", "3", "5"}},
		{[]any{childproc.Pipe, &bytes.Buffer{}, childproc.Inherit, strings.NewReader(""), int(r.Fd())}, []string{"0", "1", "2", "3", "4"}},
	} {
		// The child waits on its stdin, a pipe here, until we close it.
		c, err := childproc.Spawn(t.Context(), "cat", nil, &childproc.Options{Stdio: tc.stdio})
		if err != nil {
			t.Fatal(err)
		}
		got, ok := formsChildFds(c, tc.want, nil)
		c.Stdin.Close()
		waitFor(t, c)
		if !ok {
			t.Fatalf("stdio %v: the child has fds %v, want %v", tc.stdio, got, tc.want)
		}
	}
}

// README (Guarantees): "The child inherits no fd but its stdio and the
// extra entries it was given", even an fd of the parent's without
// close-on-exec (inherited from its own parent, or made by syscall.Dup or
// a C library), which os.StartProcess alone would leave open in the child.
func TestStdioFormsNoInheritedFds(t *testing.T) {
	fd, err := syscall.Dup(2) // no close-on-exec
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	c, err := childproc.Spawn(t.Context(), "cat", nil, &childproc.Options{Stdio: []any{childproc.Pipe, childproc.Ignore, childproc.Ignore}})
	if err != nil {
		t.Fatal(err)
	}
	got, ok := formsChildFds(c, []string{"0", "1", "2"}, nil)
	c.Stdin.Close()
	waitFor(t, c)
	if !ok {
		t.Fatalf("the child has fds %v (our fd %d has no close-on-exec), want [0 1 2]", got, fd)
	}
}

// WaitDelay bounds the wait for a grandchild that holds the child's
// stdout; without it Wait waits for the grandchild, as Node's 'close'.
func TestStdioFormsWaitDelay(t *testing.T) {
	t.Parallel()

	t.Run("cuts", func(t *testing.T) {
		t.Parallel()
		start := time.Now()
		c, err := childproc.Spawn(t.Context(), "sh", []string{"-c", "sleep 5 & echo $!"},
			&childproc.Options{WaitDelay: 200 * time.Millisecond, Stdio: []any{childproc.Ignore, childproc.Pipe, childproc.Ignore}})
		if err != nil {
			t.Fatal(err)
		}
		err = waitFor(t, c)
		took := time.Since(start)
		e := wantCode(t, err, childproc.CodeWaitDelay)
		if !errors.Is(err, childproc.ErrWaitDelay) || e.ExitCode != 0 {
			t.Fatalf("%#v", e)
		}
		if took >= 4*time.Second {
			t.Fatalf("Wait took %v: it waited for the grandchild", took)
		}
		// What the child wrote before the cut is still there. (The read
		// then ends with ErrWaitDelay rather than io.EOF, since WaitDelay
		// closed the pipe.)
		b, err := io.ReadAll(c.Stdout)
		if err != nil && !errors.Is(err, childproc.ErrWaitDelay) {
			t.Fatalf("read after the cut: %v", err)
		}
		pid, perr := strconv.Atoi(strings.TrimSpace(string(b)))
		if perr != nil {
			t.Fatalf("stdout %q", b)
		}
		if comm, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm"); err == nil && string(comm) == "sleep\n" {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	})

	t.Run("not reached", func(t *testing.T) {
		t.Parallel()
		c, err := childproc.Spawn(t.Context(), "echo", []string{"hi"}, &childproc.Options{WaitDelay: time.Minute, Stdio: []any{childproc.Ignore, childproc.Pipe, childproc.Ignore}})
		if err != nil {
			t.Fatal(err)
		}
		if out := readAll(t, c.Stdout); out != "hi\n" {
			t.Fatalf("stdout %q", out)
		}
		if err := waitFor(t, c); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("without", func(t *testing.T) {
		t.Parallel()
		start := time.Now()
		c, err := childproc.Spawn(t.Context(), "sh", []string{"-c", "(sleep 0.5; echo late) & echo hi"},
			&childproc.Options{Stdio: []any{childproc.Ignore, childproc.Pipe, childproc.Ignore}})
		if err != nil {
			t.Fatal(err)
		}
		if err := waitFor(t, c); err != nil {
			t.Fatal(err)
		}
		if took := time.Since(start); took < 500*time.Millisecond {
			t.Fatalf("Wait returned after %v, before the grandchild ended", took)
		}
		if out := readAll(t, c.Stdout); out != "hi\nlate\n" {
			t.Fatalf("stdout %q", out)
		}
	})
}
