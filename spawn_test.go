//go:build unix

package childproc_test

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/childproc/childproc"
)

// Node: test-child-process-spawn-event, test-child-process-exit-code.
func TestSpawnEcho(t *testing.T) {
	t.Parallel()
	out, errOut, err := spawnOut(t, "echo", []string{"hello", "world"}, nil)
	if err != nil || out != "hello world\n" || errOut != "" {
		t.Fatalf("echo: %q %q %v", out, errOut, err)
	}
}

func TestSpawnNilOptionsMeansThreePipes(t *testing.T) {
	t.Parallel()
	c, err := childproc.Spawn(t.Context(), "sh", []string{"-c", "read x; echo \"out $x\"; echo err >&2"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Stdin == nil || c.Stdout == nil || c.Stderr == nil {
		t.Fatalf("nil options: stdin %v stdout %v stderr %v", c.Stdin, c.Stdout, c.Stderr)
	}
	if c.Stdio(0) == nil || c.Stdio(1) == nil || c.Stdio(2) == nil || c.Stdio(3) != nil || c.Stdio(-1) != nil {
		t.Fatal("Stdio(i) does not match the default pipes")
	}
	if _, err := io.WriteString(c.Stdin, "in\n"); err != nil {
		t.Fatal(err)
	}
	c.Stdin.Close()
	errc := make(chan string, 1)
	go func() { b, _ := io.ReadAll(c.Stderr); errc <- string(b) }()
	if out := readAll(t, c.Stdout); out != "out in\n" {
		t.Fatalf("stdout %q", out)
	}
	if e := <-errc; e != "err\n" {
		t.Fatalf("stderr %q", e)
	}
	if err := waitFor(t, c); err != nil {
		t.Fatal(err)
	}
	if c.ExitCode() != 0 || c.SignalCode() != "" {
		t.Fatalf("exit %d %q", c.ExitCode(), c.SignalCode())
	}
}

// Node: 'spawn' comes before any output and 'exit' before 'close'. Spawn
// returns while the child still waits for its input, and Exited is closed
// no later than Done.
func TestSpawnEventOrder(t *testing.T) {
	t.Parallel()
	c, err := childproc.Spawn(t.Context(), "sh", []string{"-c", "read x; echo \"$x\""}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Pid() <= 0 {
		t.Fatalf("pid %d", c.Pid())
	}
	select {
	case <-c.Exited():
		t.Fatal("Exited closed before the child got its input")
	case <-c.Done():
		t.Fatal("Done closed before the child got its input")
	default:
	}
	if c.ExitCode() != -1 || c.SignalCode() != "" || c.ProcessState() != nil {
		t.Fatalf("running child: exit %d signal %q state %v", c.ExitCode(), c.SignalCode(), c.ProcessState())
	}
	io.WriteString(c.Stdin, "go\n")
	if out := readAll(t, c.Stdout); out != "go\n" {
		t.Fatalf("stdout %q", out)
	}
	waitFor(t, c)
	select {
	case <-c.Exited():
	default:
		t.Fatal("Done closed while Exited is still open")
	}
	if c.ProcessState() == nil || !c.ProcessState().Exited() {
		t.Fatalf("ProcessState %v", c.ProcessState())
	}
}

// Node: test-child-process-stdout-flush-exit, and the "C" transcript of
// the event order: 'exit' comes when sh ends, 'close' only once the
// grandchild that holds stdout has written "late" and ended.
func TestExitedBeforeWaitWhenGrandchildHoldsStdout(t *testing.T) {
	t.Parallel()
	const delay = time.Second
	c, err := childproc.Spawn(t.Context(), "sh", []string{"-c", "(sleep 1; echo late) & echo early"},
		&childproc.Options{Stdio: []any{childproc.Ignore, childproc.Pipe, childproc.Ignore}})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	waitExited(t, c)
	exitedAfter := time.Since(start)
	select {
	case <-c.Done():
		if exitedAfter < delay/2 {
			t.Fatal("Done closed together with Exited while the grandchild holds stdout")
		}
		t.Skipf("the machine is too slow: sh took %v to exit", exitedAfter)
	default:
	}
	if c.ExitCode() != 0 {
		t.Fatalf("exit code %d once exited", c.ExitCode())
	}
	if err := waitFor(t, c); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < delay*8/10 {
		t.Fatalf("Wait returned after %v, before the grandchild ended", waited)
	}
	// Nobody read stdout: both lines were drained and are still there.
	if out := readAll(t, c.Stdout); out != "early\nlate\n" {
		t.Fatalf("stdout %q", out)
	}
}

// The same with Exec: Output (Node's callback) waits for the grandchild.
func TestExecOutputWaitsForGrandchild(t *testing.T) {
	t.Parallel()
	c, err := childproc.Exec(t.Context(), "(sleep 0.3; echo late) & echo early", nil)
	if err != nil {
		t.Fatal(err)
	}
	out, _, err := output(t, c)
	if err != nil || string(out) != "early\nlate\n" {
		t.Fatalf("exec: %q %v", out, err)
	}
}

// spawnStdoutHolder starts a shell that leaves a sleeping grandchild
// holding its stdout pipe and prints the grandchild's pid, which it
// returns as read (the grandchild is killed when the test ends).
func spawnStdoutHolder(t *testing.T, ctx context.Context, sleep string, waitDelay time.Duration) (c *childproc.Child, line string, pid int, perr error) {
	t.Helper()
	c, err := childproc.Spawn(ctx, "sh", []string{"-c", "sleep " + sleep + " & echo $!"},
		&childproc.Options{Stdio: []any{childproc.Ignore, childproc.Pipe, childproc.Ignore}, WaitDelay: waitDelay})
	if err != nil {
		t.Fatal(err)
	}
	var buf [32]byte
	n, _ := c.Stdout.Read(buf[:])
	line = string(buf[:n])
	pid, perr = strconv.Atoi(strings.TrimSpace(line))
	if perr == nil {
		t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
	}
	return c, line, pid, perr
}

// A child that succeeds well within WaitDelay is not affected by it.
func TestWaitDelayNotReached(t *testing.T) {
	t.Parallel()
	out, _, err := spawnOut(t, "echo", []string{"ok"}, &childproc.Options{WaitDelay: long})
	if err != nil || out != "ok\n" {
		t.Fatalf("%q %v", out, err)
	}
}

// Node: test-child-process-spawn-error. The error names the file, has
// Syscall "spawn <file>", Spawnargs without argv[0], and unwraps to
// fs.ErrNotExist; no child is left.
func TestSpawnENOENT(t *testing.T) {
	t.Parallel()
	c, err := childproc.Spawn(t.Context(), "childproc-nope", []string{"a", "b"}, nil)
	if c != nil {
		t.Fatalf("child returned with error %v", err)
	}
	e := wantCode(t, err, "ENOENT")
	if e.Errno != syscall.ENOENT || e.Syscall != "spawn childproc-nope" || e.Path != "childproc-nope" ||
		!slices.Equal(e.Spawnargs, []string{"a", "b"}) || e.ExitCode != -1 {
		t.Fatalf("error fields: %#v", e)
	}
	if !errors.Is(err, fs.ErrNotExist) || !errors.Is(err, syscall.ENOENT) {
		t.Fatal("errors.Is(err, fs.ErrNotExist) does not hold")
	}
	if err.Error() != "spawn childproc-nope ENOENT" {
		t.Fatalf("message %q", err.Error())
	}
	// An absolute path that does not exist.
	_, err = childproc.Spawn(t.Context(), "/nonexistent/cmd", []string{"x"}, nil)
	e = wantCode(t, err, "ENOENT")
	if e.Path != "/nonexistent/cmd" || e.Syscall != "spawn /nonexistent/cmd" {
		t.Fatalf("error fields: %#v", e)
	}
}

// Executing a file without x permission, or a directory, is EACCES, by
// path and through PATH.
func TestSpawnEACCES(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	plain := writeFile(t, dir, "plain", "#!/bin/sh\necho no\n", 0o644)
	os.Mkdir(filepath.Join(dir, "adir"), 0o755)
	for _, name := range []string{plain, filepath.Join(dir, "adir")} {
		_, err := childproc.Spawn(t.Context(), name, nil, nil)
		e := wantCode(t, err, "EACCES")
		if e.Errno != syscall.EACCES || e.Path != name || e.Syscall != "spawn "+name {
			t.Fatalf("%s: %#v", name, e)
		}
		if !errors.Is(err, fs.ErrPermission) {
			t.Fatalf("%s: errors.Is(err, fs.ErrPermission) does not hold", name)
		}
	}
	// Found through PATH but not executable: EACCES, not ENOENT (execvp).
	_, err := childproc.Spawn(t.Context(), "plain", nil, &childproc.Options{Env: []string{"PATH=" + dir}})
	wantCode(t, err, "EACCES")
}

func TestExitCodes(t *testing.T) {
	t.Parallel()
	for _, code := range []int{0, 1, 2, 42, 127, 255} {
		c, err := childproc.Spawn(t.Context(), "sh", []string{"-c", "exit " + strconv.Itoa(code)}, &childproc.Options{Stdio: []any{childproc.Ignore, childproc.Ignore, childproc.Ignore}})
		if err != nil {
			t.Fatal(err)
		}
		err = waitFor(t, c)
		if c.ExitCode() != code || c.SignalCode() != "" || c.Killed() {
			t.Fatalf("exit %d: ExitCode %d SignalCode %q", code, c.ExitCode(), c.SignalCode())
		}
		if code == 0 {
			if err != nil {
				t.Fatal(err)
			}
			continue
		}
		e := asError(t, err)
		if e.Code != "" || e.ExitCode != code || e.Signal != "" || e.Killed || e.Cmd != "sh -c exit "+strconv.Itoa(code) {
			t.Fatalf("exit %d: %#v", code, e)
		}
		if want := "Command failed: sh -c exit " + strconv.Itoa(code); !strings.HasPrefix(e.Error(), want) {
			t.Fatalf("message %q does not start with %q", e.Error(), want)
		}
	}
}

// A child that kills itself: SignalCode set, ExitCode -1, Killed false
// (childproc did not send it).
func TestSignalCodeOfSelfKill(t *testing.T) {
	t.Parallel()
	c, err := childproc.Spawn(t.Context(), "sh", []string{"-c", "kill -KILL $$"}, &childproc.Options{Stdio: []any{childproc.Ignore, childproc.Ignore, childproc.Ignore}})
	if err != nil {
		t.Fatal(err)
	}
	err = waitFor(t, c)
	e := asError(t, err)
	if c.SignalCode() != "SIGKILL" || c.ExitCode() != -1 || c.Killed() {
		t.Fatalf("SignalCode %q ExitCode %d Killed %v", c.SignalCode(), c.ExitCode(), c.Killed())
	}
	if e.Signal != "SIGKILL" || e.ExitCode != -1 || e.Killed || e.Code != "" {
		t.Fatalf("%#v", e)
	}
}

// Node: test-child-process-kill.
func TestKill(t *testing.T) {
	t.Parallel()
	quiet := []any{childproc.Ignore, childproc.Ignore, childproc.Ignore}
	t.Run("nil means SIGTERM", func(t *testing.T) {
		t.Parallel()
		c, err := childproc.Spawn(t.Context(), "sleep", []string{"60"}, &childproc.Options{Stdio: quiet})
		if err != nil {
			t.Fatal(err)
		}
		if c.Killed() {
			t.Fatal("Killed before Kill")
		}
		if err := c.Kill(nil); err != nil {
			t.Fatal(err)
		}
		if !c.Killed() {
			t.Fatal("Killed false after Kill")
		}
		e := asError(t, waitFor(t, c))
		if c.SignalCode() != "SIGTERM" || c.ExitCode() != -1 || e.Signal != "SIGTERM" || !e.Killed || e.ExitCode != -1 {
			t.Fatalf("SignalCode %q ExitCode %d err %#v", c.SignalCode(), c.ExitCode(), e)
		}
		if !strings.HasPrefix(e.Error(), "Command failed: sleep 60") {
			t.Fatalf("message %q", e.Error())
		}
	})
	t.Run("nil means KillSignal", func(t *testing.T) {
		t.Parallel()
		c, err := childproc.Spawn(t.Context(), "sleep", []string{"60"}, &childproc.Options{Stdio: quiet, KillSignal: syscall.SIGKILL})
		if err != nil {
			t.Fatal(err)
		}
		c.Kill(nil)
		waitFor(t, c)
		if c.SignalCode() != "SIGKILL" {
			t.Fatalf("SignalCode %q", c.SignalCode())
		}
	})
	// Not SIGINT or SIGQUIT: a shell without job control starts background
	// jobs with them ignored, and children inherit that.
	t.Run("any signal", func(t *testing.T) {
		t.Parallel()
		for _, sig := range []syscall.Signal{syscall.SIGKILL, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGALRM} {
			c, err := childproc.Spawn(t.Context(), "sleep", []string{"60"}, &childproc.Options{Stdio: quiet})
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Kill(sig); err != nil {
				t.Fatal(err)
			}
			waitFor(t, c)
			if want := childprocSignalName(sig); c.SignalCode() != want {
				t.Fatalf("Kill(%v): SignalCode %q, want %q", sig, c.SignalCode(), want)
			}
		}
	})
	t.Run("signal 0", func(t *testing.T) {
		t.Parallel()
		c, err := childproc.Spawn(t.Context(), "sleep", []string{"60"}, &childproc.Options{Stdio: quiet})
		if err != nil {
			t.Fatal(err)
		}
		// Node: kill(0) returns true and sets killed; the child lives on.
		if err := c.Kill(syscall.Signal(0)); err != nil {
			t.Fatal(err)
		}
		if !c.Killed() {
			t.Fatal("Kill(0) did not set Killed")
		}
		time.Sleep(50 * time.Millisecond)
		select {
		case <-c.Exited():
			t.Fatal("signal 0 ended the child")
		default:
		}
		c.Kill(syscall.SIGKILL)
		waitFor(t, c)
	})
	t.Run("after exit", func(t *testing.T) {
		t.Parallel()
		c, err := childproc.Spawn(t.Context(), "true", nil, &childproc.Options{Stdio: quiet})
		if err != nil {
			t.Fatal(err)
		}
		if err := waitFor(t, c); err != nil {
			t.Fatal(err)
		}
		for _, sig := range []os.Signal{nil, syscall.SIGKILL, syscall.Signal(0)} {
			err := c.Kill(sig)
			e := wantCode(t, err, "ESRCH")
			if !errors.Is(err, os.ErrProcessDone) || e.Errno != syscall.ESRCH || e.Syscall != "kill" {
				t.Fatalf("Kill(%v) after exit: %#v", sig, e)
			}
		}
		if c.Killed() {
			t.Fatal("a Kill that reached nobody set Killed")
		}
		if c.ExitCode() != 0 || c.SignalCode() != "" {
			t.Fatalf("exit %d %q", c.ExitCode(), c.SignalCode())
		}
	})
	t.Run("unknown signal", func(t *testing.T) {
		t.Parallel()
		c, err := childproc.Spawn(t.Context(), "sleep", []string{"60"}, &childproc.Options{Stdio: quiet})
		if err != nil {
			t.Fatal(err)
		}
		defer func() { c.Kill(syscall.SIGKILL); waitFor(t, c) }()
		for _, sig := range []os.Signal{syscall.Signal(200), syscall.Signal(-3), fakeSignal{}} {
			wantCode(t, c.Kill(sig), childproc.CodeUnknownSignal)
		}
		if c.Killed() {
			t.Fatal("an unknown signal set Killed")
		}
	})
}

// fakeSignal is an os.Signal that is not a syscall.Signal.
type fakeSignal struct{}

func (fakeSignal) String() string { return "fake" }
func (fakeSignal) Signal()        {}

func childprocSignalName(sig syscall.Signal) string {
	return map[syscall.Signal]string{syscall.SIGKILL: "SIGKILL", syscall.SIGUSR1: "SIGUSR1", syscall.SIGUSR2: "SIGUSR2",
		syscall.SIGALRM: "SIGALRM", syscall.SIGTERM: "SIGTERM"}[sig]
}

// Node: test-child-process-spawn-timeout-kill-signal: Timeout sends
// KillSignal and the result reports it; it is not an exec-style error.
func TestSpawnTimeout(t *testing.T) {
	t.Parallel()
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		c, err := childproc.Spawn(t.Context(), "sleep", []string{"60"}, &childproc.Options{
			Stdio: []any{childproc.Ignore, childproc.Ignore, childproc.Ignore}, Timeout: 100 * time.Millisecond, KillSignal: sig})
		if err != nil {
			t.Fatal(err)
		}
		e := asError(t, waitFor(t, c))
		if want := childprocSignalName(sig); e.Signal != want || !e.TimedOut || !e.Killed || e.ExitCode != -1 || c.SignalCode() != want {
			t.Fatalf("timeout with %v: %#v", sig, e)
		}
	}
}

// Node: test-child-process-spawn-controller, test-child-process-exec-
// abortcontroller-promisified: cancelling the context sends KillSignal
// and the result has code ABORT_ERR and the context's cause.
func TestSpawnAbort(t *testing.T) {
	t.Parallel()
	quiet := []any{childproc.Ignore, childproc.Ignore, childproc.Ignore}
	t.Run("cancel", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(t.Context())
		c, err := childproc.Spawn(ctx, "sleep", []string{"60"}, &childproc.Options{Stdio: quiet})
		if err != nil {
			t.Fatal(err)
		}
		cancel()
		err = waitFor(t, c)
		e := wantCode(t, err, childproc.CodeAbort)
		if !errors.Is(err, context.Canceled) || e.Signal != "SIGTERM" || !e.Killed || e.ExitCode != -1 || e.Cmd != "sleep 60" {
			t.Fatalf("abort: %#v", e)
		}
		if !c.Killed() || c.SignalCode() != "SIGTERM" {
			t.Fatalf("Killed %v SignalCode %q", c.Killed(), c.SignalCode())
		}
	})
	t.Run("cause and KillSignal", func(t *testing.T) {
		t.Parallel()
		reason := errors.New("user pressed stop")
		ctx, cancel := context.WithCancelCause(t.Context())
		c, err := childproc.Spawn(ctx, "sleep", []string{"60"}, &childproc.Options{Stdio: quiet, KillSignal: syscall.SIGKILL})
		if err != nil {
			t.Fatal(err)
		}
		cancel(reason)
		err = waitFor(t, c)
		e := wantCode(t, err, childproc.CodeAbort)
		if !errors.Is(err, reason) || e.Signal != "SIGKILL" {
			t.Fatalf("abort with cause: %#v", e)
		}
	})
	t.Run("deadline", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		c, err := childproc.Spawn(ctx, "sleep", []string{"60"}, &childproc.Options{Stdio: quiet})
		if err != nil {
			t.Fatal(err)
		}
		err = waitFor(t, c)
		wantCode(t, err, childproc.CodeAbort)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("deadline: %v", err)
		}
	})
	t.Run("after exit", func(t *testing.T) {
		t.Parallel()
		// Cancelling once the child has ended changes nothing.
		ctx, cancel := context.WithCancel(t.Context())
		c, err := childproc.Spawn(ctx, "true", nil, &childproc.Options{Stdio: quiet})
		if err != nil {
			t.Fatal(err)
		}
		if err := waitFor(t, c); err != nil {
			t.Fatal(err)
		}
		cancel()
		if err := c.Wait(); err != nil || c.Killed() {
			t.Fatalf("cancel after exit: %v killed %v", err, c.Killed())
		}
	})
	t.Run("already cancelled", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		dir := t.TempDir()
		marker := filepath.Join(dir, "ran")
		c, err := childproc.Spawn(ctx, "touch", []string{marker}, &childproc.Options{Stdio: quiet})
		if c != nil {
			t.Fatal("a child was returned for a cancelled context")
		}
		wantCode(t, err, childproc.CodeAbort)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("%v does not wrap context.Canceled", err)
		}
		c, err = childproc.Exec(ctx, "touch "+marker, nil)
		if c != nil {
			t.Fatal("a child was returned for a cancelled context")
		}
		wantCode(t, err, childproc.CodeAbort)
		time.Sleep(50 * time.Millisecond)
		if _, err := os.Stat(marker); err == nil {
			t.Fatal("the child ran")
		}
	})
}

// Node: test-child-process-cwd.
func TestSpawnCwd(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	want, _ := filepath.EvalSymlinks(dir)
	out, _, err := spawnOut(t, "pwd", []string{"-P"}, &childproc.Options{Cwd: dir})
	if err != nil || out != want+"\n" {
		t.Fatalf("pwd in %s: %q %v", dir, out, err)
	}
	// A relative program is found relative to Cwd.
	writeFile(t, dir, "here.sh", "#!/bin/sh\necho here\n", 0o755)
	out, _, err = spawnOut(t, "./here.sh", nil, &childproc.Options{Cwd: dir})
	if err != nil || out != "here\n" {
		t.Fatalf("./here.sh in %s: %q %v", dir, out, err)
	}
	// The parent's cwd by default.
	self, _ := os.Getwd()
	self, _ = filepath.EvalSymlinks(self)
	out, _, err = spawnOut(t, "pwd", []string{"-P"}, nil)
	if err != nil || out != self+"\n" {
		t.Fatalf("pwd: %q, want %q (%v)", out, self, err)
	}
}

// Node: test-child-process-env, test-child-process-default-options.
func TestSpawnEnv(t *testing.T) {
	t.Parallel()
	t.Run("nil inherits", func(t *testing.T) {
		t.Parallel()
		out, _, err := spawnOut(t, "env", []string{"-0"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		got := strings.Split(strings.TrimSuffix(out, "\x00"), "\x00")
		want := os.Environ()
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("child env differs from the parent's:\n got %q\nwant %q", got, want)
		}
	})
	t.Run("explicit", func(t *testing.T) {
		t.Parallel()
		out, _, err := spawnOut(t, "env", nil, &childproc.Options{Env: []string{"FOO=bar", "EMPTY=", "WITH=equals=sign"}})
		if err != nil || out != "FOO=bar\nEMPTY=\nWITH=equals=sign\n" {
			t.Fatalf("env: %q %v", out, err)
		}
		// Empty but not nil: an empty environment.
		out, _, err = spawnOut(t, "/usr/bin/env", nil, &childproc.Options{Env: []string{}})
		if err != nil || out != "" {
			t.Fatalf("empty env: %q %v", out, err)
		}
	})
	t.Run("PATH of Env", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		writeFile(t, dir, "childproc-mytool", "#!/bin/sh\necho mine \"$0\"\n", 0o755)
		out, _, err := spawnOut(t, "childproc-mytool", nil, &childproc.Options{Env: []string{"PATH=/nonexistent:" + dir}})
		// A script's $0 is the path the kernel ran, found in Env's PATH.
		if err != nil || out != "mine "+dir+"/childproc-mytool\n" {
			t.Fatalf("PATH lookup: %q %v", out, err)
		}
		// The parent's PATH does not have it.
		_, err = childproc.Spawn(t.Context(), "childproc-mytool", nil, nil)
		wantCode(t, err, "ENOENT")
		// Nor does an Env without PATH (execvp's default /usr/bin:/bin),
		// which still finds env.
		_, err = childproc.Spawn(t.Context(), "childproc-mytool", nil, &childproc.Options{Env: []string{"X=1"}})
		wantCode(t, err, "ENOENT")
		out, _, err = spawnOut(t, "env", nil, &childproc.Options{Env: []string{"X=1"}})
		if err != nil || out != "X=1\n" {
			t.Fatalf("default PATH: %q %v", out, err)
		}
	})
}

// Node: test-child-process-spawn-shell, §1.4: the arguments are joined
// with spaces and not quoted; spawnfile is the shell.
func TestSpawnShell(t *testing.T) {
	t.Parallel()
	c, err := childproc.Spawn(t.Context(), `echo "$0" "$1"`, []string{"x y"}, &childproc.Options{Shell: "/bin/sh", Stdio: []any{childproc.Ignore, childproc.Pipe, childproc.Ignore}})
	if err != nil {
		t.Fatal(err)
	}
	if out := readAll(t, c.Stdout); out != "/bin/sh  x y\n" {
		t.Fatalf("shell output %q (node prints \"/bin/sh  x y\")", out)
	}
	if err := waitFor(t, c); err != nil {
		t.Fatal(err)
	}
	if c.Spawnfile() != "/bin/sh" || !slices.Equal(c.Spawnargs(), []string{"/bin/sh", "-c", `echo "$0" "$1" x y`}) {
		t.Fatalf("spawnfile %q spawnargs %q", c.Spawnfile(), c.Spawnargs())
	}
	// Shell syntax works, and Argv0 becomes the shell's $0.
	out, _, err := spawnOut(t, "echo $0; echo a | tr a b", nil, &childproc.Options{Shell: "/bin/sh", Argv0: "myshell"})
	if err != nil || out != "myshell\nb\n" {
		t.Fatalf("shell: %q %v", out, err)
	}
	// Another shell.
	if _, err := os.Stat("/bin/bash"); err == nil {
		out, _, err := spawnOut(t, "echo $BASH_VERSION", nil, &childproc.Options{Shell: "/bin/bash"})
		if err != nil || strings.TrimSpace(out) == "" {
			t.Fatalf("bash: %q %v", out, err)
		}
	}
	// A missing shell is a spawn error naming it.
	_, err = childproc.Spawn(t.Context(), "echo hi", nil, &childproc.Options{Shell: "/nonexistent/sh"})
	e := wantCode(t, err, "ENOENT")
	if e.Path != "/nonexistent/sh" || e.Syscall != "spawn /nonexistent/sh" || !slices.Equal(e.Spawnargs, []string{"-c", "echo hi"}) {
		t.Fatalf("missing shell: %#v", e)
	}
}

// Node: test-child-process-uid-gid. Needs root.
func TestSpawnUIDGID(t *testing.T) {
	t.Parallel()
	if os.Getuid() != 0 {
		t.Skip("needs root")
	}
	// Ids no one else uses: the fork-bomb test counts the processes of
	// 65534, and RLIMIT_NPROC is per user, machine-wide.
	uid, gid := 4242, 4343
	out, _, err := spawnOut(t, "id", []string{"-u"}, &childproc.Options{UID: &uid})
	if err != nil || out != "4242\n" {
		t.Fatalf("id -u: %q %v", out, err)
	}
	out, _, err = spawnOut(t, "id", []string{"-g"}, &childproc.Options{GID: &gid})
	if err != nil || out != "4343\n" {
		t.Fatalf("id -g: %q %v", out, err)
	}
	out, _, err = spawnOut(t, "sh", []string{"-c", "echo $(id -u) $(id -g)"}, &childproc.Options{UID: &uid, GID: &gid})
	if err != nil || out != "4242 4343\n" {
		t.Fatalf("id: %q %v", out, err)
	}
	c, err := childproc.Exec(t.Context(), "id -u", &childproc.Options{UID: &uid})
	if err != nil {
		t.Fatal(err)
	}
	if stdout, _, err := output(t, c); err != nil || string(stdout) != "4242\n" {
		t.Fatalf("exec id -u: %q %v", stdout, err)
	}
}

// The Exited/Done channels and accessors are safe to use from many
// goroutines, and Wait may be called again.
func TestWaitConcurrent(t *testing.T) {
	t.Parallel()
	c, err := childproc.Spawn(t.Context(), "sh", []string{"-c", "sleep 0.1; exit 3"}, &childproc.Options{Stdio: []any{childproc.Ignore, childproc.Ignore, childproc.Ignore}})
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			c.ExitCode()
			c.SignalCode()
			c.Killed()
			errs <- c.Wait()
		}()
	}
	for range 8 {
		select {
		case err := <-errs:
			if asError(t, err).ExitCode != 3 {
				t.Fatalf("%v", err)
			}
		case <-time.After(long):
			t.Fatal("Wait hangs")
		}
	}
	if e1, e2 := c.Wait(), c.Wait(); e1 != e2 {
		t.Fatal("Wait returned different errors")
	}
}

// Kill racing with the child's own exit, from several goroutines: every
// Kill returns nil (and then Killed holds) or ESRCH, and Wait returns.
func TestKillRacesExit(t *testing.T) {
	t.Parallel()
	for i := range 40 {
		c, err := childproc.Spawn(t.Context(), "true", nil, &childproc.Options{Stdio: []any{childproc.Ignore, childproc.Ignore, childproc.Ignore}})
		if err != nil {
			t.Fatal(err)
		}
		delivered := make(chan bool, 3)
		for g := range 3 {
			go func() {
				time.Sleep(time.Duration((i*3+g)%7) * 300 * time.Microsecond)
				err := c.Kill(syscall.SIGKILL)
				if err != nil {
					if e := asError(t, err); e.Code != "ESRCH" {
						t.Errorf("Kill: %v", err)
					}
				}
				delivered <- err == nil
			}()
		}
		some := false
		for range 3 {
			some = <-delivered || some
		}
		err = waitFor(t, c)
		if some != c.Killed() {
			t.Fatalf("a Kill returned nil: %v, Killed: %v", some, c.Killed())
		}
		if c.SignalCode() == "SIGKILL" && !c.Killed() {
			t.Fatal("SIGKILL without Killed")
		}
		if err == nil && c.SignalCode() != "" {
			t.Fatalf("nil error with signal %q", c.SignalCode())
		}
	}
}

// Output on a Spawn child (not buffered) has no output, only the error.
func TestOutputOfSpawnChild(t *testing.T) {
	t.Parallel()
	c, err := childproc.Spawn(t.Context(), "sh", []string{"-c", "exit 4"}, quietOpts())
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, c)
	stdout, stderr, err := c.Output()
	if stdout != nil || stderr != nil || asError(t, err).ExitCode != 4 {
		t.Fatalf("%q %q %v", stdout, stderr, err)
	}
}

// Env with a key given twice: the last value wins, for the PATH lookup and
// for the child, whatever the child's language. os/exec drops the earlier
// duplicates for this reason; Node's env object cannot hold any. Without
// that, the common Env: append(os.Environ(), "KEY=new") would leave
// C, Go, Python and Node children seeing the old value (getenv takes the
// first), while sh sees the new one and childproc's own PATH lookup (which
// takes the last) disagrees with the child's PATH.
func TestSpawnEnvDuplicateKeys(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, dir, "childproc-dup-tool", "#!/bin/sh\nprintenv PATH\n", 0o755)
	env := append(os.Environ(), "CHILDPROC_DUP=first", "CHILDPROC_DUP=last", "PATH="+dir+":/usr/bin:/bin")
	out, _, err := spawnOut(t, "printenv", []string{"CHILDPROC_DUP"}, &childproc.Options{Env: env})
	if err != nil || out != "last\n" {
		t.Errorf("printenv CHILDPROC_DUP: %q %v; want only the last value", out, err)
	}
	out, _, err = spawnOut(t, "childproc-dup-tool", nil, &childproc.Options{Env: env})
	if err != nil || out != dir+":/usr/bin:/bin\n" {
		t.Errorf("the child found through the new PATH sees PATH %q (%v)", out, err)
	}
	r := childproc.SpawnSync("env", nil, &childproc.Options{Env: []string{"A=1", "B=2", "A=3"}})
	if r.Err != nil || string(r.Stdout) != "B=2\nA=3\n" && string(r.Stdout) != "A=3\nB=2\n" {
		t.Errorf("env with A twice: %q %v", r.Stdout, r.Err)
	}
}

// A stopped child has not exited: SIGSTOP sets Killed but neither Exited
// nor the exit fields; SIGCONT lets it go on. A Timeout reaches a stopped
// child too: its SIGTERM stays pending, and ForceKillAfter's SIGKILL ends
// it.
func TestStoppedChild(t *testing.T) {
	t.Parallel()
	c, err := childproc.Spawn(t.Context(), "sh", []string{"-c", "sleep 0.3; echo done"}, &childproc.Options{Stdio: []any{childproc.Ignore, childproc.Pipe, childproc.Ignore}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Kill(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	select {
	case <-c.Exited():
		t.Fatal("a stopped child counts as exited")
	default:
	}
	if !c.Killed() || c.SignalCode() != "" || c.ExitCode() != -1 {
		t.Fatalf("stopped: Killed %v SignalCode %q ExitCode %d", c.Killed(), c.SignalCode(), c.ExitCode())
	}
	if err := c.Kill(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	if out := readAll(t, c.Stdout); out != "done\n" {
		t.Fatalf("stdout %q", out)
	}
	if err := waitFor(t, c); err != nil {
		t.Fatal(err)
	}

	c, err = childproc.Spawn(t.Context(), "sleep", []string{"60"}, &childproc.Options{Stdio: []any{childproc.Ignore, childproc.Ignore, childproc.Ignore},
		Timeout: 100 * time.Millisecond, ForceKillAfter: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	c.Kill(syscall.SIGSTOP)
	e := asError(t, waitFor(t, c))
	if e.Signal != "SIGKILL" || !e.TimedOut || !e.ForceKilled || !e.Killed {
		t.Fatalf("timeout of a stopped child: %#v", e)
	}
}

// A Go program that Node forked with an IPC channel has NODE_CHANNEL_FD in
// its environment. Node deletes that variable at startup, so the children
// of a Node child never see it; childproc must not pass it on either to a
// child that has no IPC entry (with the default Env). Otherwise a node
// grandchild takes fd 3 for its channel: it aborts (fd 3 closed) or, where
// fd 3 is open, talks on someone else's channel.
// Not parallel: it sets the process's environment.
func TestSpawnDoesNotPassOnNodeChannel(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("no node")
	}
	t.Setenv("NODE_CHANNEL_FD", "3")
	t.Setenv("NODE_CHANNEL_SERIALIZATION_MODE", "json")
	r := childproc.SpawnSync("node", []string{"-e", "console.log(process.env.NODE_CHANNEL_FD ?? 'none')"}, nil)
	if r.Err != nil || r.Status != 0 || string(r.Stdout) != "none\n" {
		t.Errorf("node child of a parent with NODE_CHANNEL_FD: status %d signal %q stdout %q stderr %.200q %v",
			r.Status, r.Signal, r.Stdout, r.Stderr, r.Err)
	}
	r = childproc.SpawnSync("sh", []string{"-c", "echo ${NODE_CHANNEL_FD:-none} ${NODE_CHANNEL_SERIALIZATION_MODE:-none}"}, nil)
	if string(r.Stdout) != "none none\n" {
		t.Errorf("the child sees %q", r.Stdout)
	}
}

// WaitDelay still cuts a grandchild's pipe while the caller is blocked
// reading it, and the lifecycle runs in Wait (a context with no Done
// channel).
func TestWaitDelayWhileReading(t *testing.T) {
	t.Parallel()
	c, _, _, _ := spawnStdoutHolder(t, context.Background(), "5", 200*time.Millisecond)
	read := make(chan error, 1)
	go func() {
		var buf [32]byte
		_, err := c.Stdout.Read(buf[:]) // blocks: the grandchild holds the pipe
		read <- err
	}()
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	err := c.Wait()
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("Wait took %v with WaitDelay 200ms", took)
	}
	wantCode(t, err, childproc.CodeWaitDelay)
	select {
	case err := <-read:
		if err == nil {
			t.Fatal("the blocked Read returned no error after WaitDelay closed the pipe")
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the blocked Read did not return after WaitDelay")
	}
}

// With a context that never ends the lifecycle runs in the first caller
// that needs it; callers racing for it all see one result, and 'exit'
// comes before 'close'.
func TestLifecycleConcurrentCallers(t *testing.T) {
	t.Parallel()
	for range 20 {
		c, err := childproc.Spawn(context.Background(), "sh", []string{"-c", "echo out; exit 3"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		errs := make(chan error, 4)
		var wg sync.WaitGroup
		for range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- c.Wait()
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-c.Exited()
			if c.ExitCode() != 3 {
				errs <- errors.New("ExitCode after Exited: " + strconv.Itoa(c.ExitCode()))
			}
		}()
		out, _ := io.ReadAll(c.Stdout)
		wg.Wait()
		close(errs)
		var first error
		for err := range errs {
			e := wantCode(t, err, "")
			if e.ExitCode != 3 {
				t.Fatalf("error %v", err)
			}
			if first != nil && first != err {
				t.Fatalf("callers saw different errors: %v, %v", first, err)
			}
			first = err
		}
		if string(out) != "out\n" {
			t.Fatalf("stdout %q", out)
		}
	}
}

// A parent that is not root may set its own uid and gid, as in Node
// (only root drops its supplementary groups). The parent is
// testdata/ownids, built where an unprivileged user can execute it (the
// test binary's own folder is private), run as 4242:4343.
func TestSpawnOwnIDsAsNonRoot(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to start the unprivileged helper")
	}
	dir, err := os.MkdirTemp("", "childproc-ids")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := buildProgram(t, dir, "ownids")
	uid, gid := 4242, 4343
	r := childproc.SpawnSync(bin, nil, &childproc.Options{
		UID: &uid, GID: &gid, Cwd: dir,
		Env: []string{"PATH=" + os.Getenv("PATH")},
	})
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	if got := string(r.Stdout); got != "4242 4343\n" {
		t.Fatalf("helper as 4242:4343 printed %q (stderr %q)", got, r.Stderr)
	}
}

// AddEnv adds to the inherited environment (or to Env) without replacing
// it; a key already there takes the added value; a bad entry is refused
// before anything starts.
func TestAddEnv(t *testing.T) {
	t.Setenv("CHILDPROC_TEST_KEPT", "kept")
	t.Setenv("CHILDPROC_TEST_OVERRIDDEN", "old")
	out, _, err := spawnOut(t, "sh", []string{"-c", `echo "$CHILDPROC_TEST_KEPT $CHILDPROC_TEST_OVERRIDDEN $CHILDPROC_TEST_ADDED"`}, &childproc.Options{
		AddEnv: []string{"CHILDPROC_TEST_OVERRIDDEN=new", "CHILDPROC_TEST_ADDED=added"},
	})
	if err != nil || out != "kept new added\n" {
		t.Errorf("with AddEnv the child saw %q (%v), want %q", out, err, "kept new added\n")
	}
	out, _, err = spawnOut(t, "/usr/bin/env", nil, &childproc.Options{Env: []string{"A=1", "B=2"}, AddEnv: []string{"B=3", "C=4"}})
	if err != nil || out != "A=1\nB=3\nC=4\n" {
		t.Errorf("Env with AddEnv: the child saw %q (%v), want A=1 B=3 C=4", out, err)
	}
	for _, bad := range []string{"NOEQUALS", "=", "A=\x00"} {
		_, err := childproc.Spawn(t.Context(), "true", nil, &childproc.Options{AddEnv: []string{bad}})
		wantCode(t, err, childproc.CodeInvalidArgValue)
	}
}

// Node: test-child-process-cwd, test-child-process-spawnsync (cwd).
func TestPortCwd(t *testing.T) {
	t.Parallel()
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	out, _, err := spawnOut(t, "pwd", nil, &childproc.Options{Cwd: dir})
	if err != nil || out != dir+"\n" {
		t.Fatalf("spawn pwd: %q %v", out, err)
	}
	stdout, _, err := portExec(t, "pwd", &childproc.Options{Cwd: dir})
	if err != nil || string(stdout) != dir+"\n" {
		t.Fatalf("exec pwd: %q %v", stdout, err)
	}
	if r := childproc.SpawnSync("pwd", nil, &childproc.Options{Cwd: dir}); r.Err != nil || string(r.Stdout) != dir+"\n" {
		t.Fatalf("spawnSync pwd: %q %v", r.Stdout, r.Err)
	}
	// A relative program is found from the child's cwd.
	writeFile(t, dir, "tool", "#!/bin/sh\necho tool in \"$(pwd)\"\n", 0o755)
	out, _, err = spawnOut(t, "./tool", nil, &childproc.Options{Cwd: dir})
	if err != nil || out != "tool in "+dir+"\n" {
		t.Fatalf("./tool: %q %v", out, err)
	}
	// Without Cwd the child runs in ours.
	wd, _ := os.Getwd()
	if out, _, err := spawnOut(t, "pwd", nil, nil); err != nil || out != wd+"\n" {
		t.Fatalf("default cwd: %q %v, want %q", out, err, wd)
	}
}

// Node: test-child-process-env, test-child-process-default-options,
// test-child-process-spawnsync-env.
func TestPortEnv(t *testing.T) {
	t.Parallel()
	// nil inherits ours.
	out, _, err := spawnOut(t, "sh", []string{"-c", `printf %s "$PATH"`}, nil)
	if err != nil || out != os.Getenv("PATH") {
		t.Fatalf("inherited PATH %q %v", out, err)
	}
	// An explicit Env is all the child has (sh adds PWD on its own, so
	// ask env, which adds nothing).
	env := []string{"PATH=/usr/bin:/bin", "A=1", "B=two words", "EMPTY="}
	out, _, err = spawnOut(t, "env", nil, &childproc.Options{Env: env})
	if err != nil || out != "PATH=/usr/bin:/bin\nA=1\nB=two words\nEMPTY=\n" {
		t.Fatalf("explicit env: %q %v", out, err)
	}
	stdout, _, err := portExec(t, `printf %s "$B"`, &childproc.Options{Env: env})
	if err != nil || string(stdout) != "two words" {
		t.Fatalf("exec env: %q %v", stdout, err)
	}
	// The program is looked up in the child's PATH, not ours.
	dir := t.TempDir()
	writeFile(t, dir, "childproc-port-tool", "#!/bin/sh\necho found\n", 0o755)
	out, _, err = spawnOut(t, "childproc-port-tool", nil, &childproc.Options{Env: []string{"PATH=" + dir + ":/usr/bin:/bin"}})
	if err != nil || out != "found\n" {
		t.Fatalf("lookup through Env's PATH: %q %v", out, err)
	}
	if r := childproc.SpawnSync("childproc-port-tool", nil, &childproc.Options{Env: []string{"PATH=" + dir}}); r.Err != nil || string(r.Stdout) != "found\n" {
		t.Fatalf("spawnSync lookup through Env's PATH: %q %v", r.Stdout, r.Err)
	}
	_, err = childproc.Spawn(t.Context(), "childproc-port-tool", nil, nil)
	wantCode(t, err, "ENOENT")
	// An Env without PATH searches /usr/bin:/bin.
	out, _, err = spawnOut(t, "env", nil, &childproc.Options{Env: []string{"ONLY=me"}})
	if err != nil || out != "ONLY=me\n" {
		t.Fatalf("env without PATH: %q %v", out, err)
	}
	_, err = childproc.Spawn(t.Context(), "childproc-port-tool", nil, &childproc.Options{Env: []string{"ONLY=me"}})
	wantCode(t, err, "ENOENT")
	// An empty Env (not nil) is an empty environment.
	if out, _, err := spawnOut(t, "env", nil, &childproc.Options{Env: []string{}}); err != nil || out != "" {
		t.Fatalf("empty env: %q %v", out, err)
	}
}
