//go:build unix

package childproc_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/childproc/childproc"
)

// Helpers shared by the tests of the root package. Every test runs real
// processes (sh, sleep, cat, node); nothing is mocked.

// long bounds every wait of these tests: generous, since the machine may be
// loaded, and only ever reached when something is broken.
const long = 30 * time.Second

// asError returns err as a *childproc.Error, failing the test when it is
// not one.
func asError(t testing.TB, err error) *childproc.Error {
	t.Helper()
	var e *childproc.Error
	if !errors.As(err, &e) {
		t.Fatalf("want a *childproc.Error, got %T: %v", err, err)
	}
	return e
}

// wantCode checks that err is a *childproc.Error with the given Code.
func wantCode(t testing.TB, err error, code string) *childproc.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("want an error with code %s, got nil", code)
	}
	e := asError(t, err)
	if e.Code != code {
		t.Fatalf("want code %s, got %q (%v)", code, e.Code, err)
	}
	return e
}

// waitFor waits for c to close (Node's 'close') and returns Wait's error,
// failing the test if that takes longer than long.
func waitFor(t testing.TB, c *childproc.Child) error {
	t.Helper()
	select {
	case <-c.Done():
		return c.Wait()
	case <-time.After(long):
		c.Kill(syscall.SIGKILL)
		t.Fatalf("child %d did not finish within %v", c.Pid(), long)
		return nil
	}
}

// waitExited waits for Exited, failing the test after long.
func waitExited(t testing.TB, c *childproc.Child) {
	t.Helper()
	select {
	case <-c.Exited():
	case <-time.After(long):
		c.Kill(syscall.SIGKILL)
		t.Fatalf("child %d did not exit within %v", c.Pid(), long)
	}
}

// output waits for an Exec/ExecFile child and returns Output's results,
// failing the test if that takes longer than long.
func output(t testing.TB, c *childproc.Child) (stdout, stderr []byte, err error) {
	t.Helper()
	waitFor(t, c)
	return c.Output()
}

// readAll reads r to its end in the background, so that a child that does
// not end cannot hang the test.
func readAll(t testing.TB, r io.Reader) string {
	t.Helper()
	b, err := readResult(t, r)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return string(b)
}

// readResult reads r to its end in the background and returns what it
// got and the error that ended it, failing the test after long.
func readResult(t testing.TB, r io.Reader) ([]byte, error) {
	t.Helper()
	type result struct {
		b   []byte
		err error
	}
	ch := make(chan result, 1)
	go func() {
		b, err := io.ReadAll(r)
		ch <- result{b, err}
	}()
	select {
	case res := <-ch:
		return res.b, res.err
	case <-time.After(long):
		t.Fatalf("read did not end within %v", long)
		return nil, nil
	}
}

// spawnOut runs name with args (stdin /dev/null, stdout and stderr piped),
// and returns its stdout, its stderr and Wait's error.
func spawnOut(t testing.TB, name string, args []string, opts *childproc.Options) (string, string, error) {
	t.Helper()
	if opts == nil {
		opts = &childproc.Options{}
	}
	if opts.Stdio == nil {
		opts.Stdio = []any{childproc.Ignore, childproc.Pipe, childproc.Pipe}
	}
	c, err := childproc.Spawn(t.Context(), name, args, opts)
	if err != nil {
		t.Fatalf("spawn %s: %v", name, err)
	}
	var errOut string
	done := make(chan struct{})
	go func() {
		defer close(done)
		b, _ := io.ReadAll(c.Stderr)
		errOut = string(b)
	}()
	out := readAll(t, c.Stdout)
	<-done
	return out, errOut, waitFor(t, c)
}

// writeFile writes an executable or plain file into dir and returns its path.
func writeFile(t testing.TB, dir, name, content string, mode os.FileMode) string {
	t.Helper()
	p := dir + "/" + name
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	return p
}

// portQuiet is a Stdio that leaves nothing open to the parent.
func portQuiet() []any { return []any{childproc.Ignore, childproc.Ignore, childproc.Ignore} }

// portExec runs command with Exec and returns Output's results.
func portExec(t *testing.T, command string, opts *childproc.Options) (stdout, stderr []byte, err error) {
	t.Helper()
	c, err := childproc.Exec(t.Context(), command, opts)
	if err != nil {
		t.Fatalf("Exec %q: %v", command, err)
	}
	return output(t, c)
}

// portExecFile runs file with ExecFile and returns Output's results.
func portExecFile(t *testing.T, file string, args []string, opts *childproc.Options) (stdout, stderr []byte, err error) {
	t.Helper()
	c, err := childproc.ExecFile(t.Context(), file, args, opts)
	if err != nil {
		t.Fatalf("ExecFile %s: %v", file, err)
	}
	return output(t, c)
}

// portSeq is what `seq 1 n` prints.
func portSeq(n int) []byte {
	var b bytes.Buffer
	for i := 1; i <= n; i++ {
		b.WriteString(strconv.Itoa(i))
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// portEqualJSON compares decoded JSON values.
func portEqualJSON(a, b any) bool {
	switch a := a.(type) {
	case []any:
		b, ok := b.([]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range a {
			if !portEqualJSON(a[i], b[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		b, ok := b.(map[string]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for k := range a {
			if !portEqualJSON(a[k], b[k]) {
				return false
			}
		}
		return true
	}
	return a == b
}

// lockedBuffer is a bytes.Buffer that a copier, a handler and the test
// may share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *lockedBuffer) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Len()
}

func quietOpts() *childproc.Options {
	return &childproc.Options{Stdio: []any{childproc.Ignore, childproc.Ignore, childproc.Ignore}}
}

// buildProgram builds the program testdata/name into dir, without the
// race detector, and returns its path.
func buildProgram(t *testing.T, dir, name string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if out, err := exec.Command("go", "build", "-o", path, "./testdata/"+name).CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return path
}

func asErr(err error) *childproc.Error {
	e, _ := err.(*childproc.Error)
	if e == nil {
		return &childproc.Error{}
	}
	return e
}

// portSignalName names the common signals the way Node does.
func portSignalName(sig syscall.Signal) string {
	return map[syscall.Signal]string{
		syscall.SIGTERM: "SIGTERM", syscall.SIGKILL: "SIGKILL", syscall.SIGUSR1: "SIGUSR1",
		syscall.SIGUSR2: "SIGUSR2", syscall.SIGALRM: "SIGALRM", syscall.SIGPIPE: "SIGPIPE",
	}[sig]
}
