//go:build linux

package childproc_test

import (
	"bufio"
	"context"
	"errors"
	"os"
	"testing"

	"github.com/childproc/childproc"
)

// RSS reads the resident memory of a running child as it grows, and
// ESRCH once the child has been reaped; what it opened to read it is
// closed by then.
func TestRSSOfARunningChild(t *testing.T) {
	if err := leakCycle(0); err != nil { // the guardian runs
		t.Fatal(err)
	}
	before := openFds(t)
	c, err := childproc.Spawn(context.Background(), "python3", []string{"-c", `
import sys
print("small", flush=True)
sys.stdin.readline()
b = b"x" * (64 << 20)
print("large", flush=True)
sys.stdin.readline()
`}, &childproc.Options{Stdio: []any{childproc.Pipe, childproc.Pipe, childproc.Inherit}})
	if err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(c.Stdout)
	rss := func(want string) int64 {
		t.Helper()
		if !lines.Scan() || lines.Text() != want {
			t.Fatalf("the child said %q, want %q", lines.Text(), want)
		}
		n, err := c.RSS()
		if err != nil {
			t.Fatalf("RSS: %v", err)
		}
		return n
	}
	small := rss("small")
	c.Stdin.Write([]byte("\n"))
	large := rss("large")
	if small <= 0 || large-small < 60<<20 {
		t.Errorf("RSS %d bytes, then %d after touching 64 MiB", small, large)
	}
	c.Stdin.Close()
	if err := waitFor(t, c); err != nil {
		t.Fatal(err)
	}
	if !eventually(func() bool { return len(newFds(before, openFds(t))) == 0 }) {
		t.Errorf("after Wait the parent still holds %v", newFds(before, openFds(t)))
	}
	_, err = c.RSS()
	if e := wantCode(t, err, "ESRCH"); !errors.Is(e, os.ErrProcessDone) {
		t.Errorf("RSS after Wait: %v, want it to wrap os.ErrProcessDone", err)
	}
}
