//go:build unix

package childproc_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"math"
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

func TestExecOutput(t *testing.T) {
	t.Parallel()
	c, err := childproc.Exec(t.Context(), "echo out; echo err >&2", nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Stdout != nil || c.Stderr != nil {
		t.Fatal("Exec: Stdout and Stderr must be nil; Output has the output")
	}
	if c.Spawnfile() != childproc.DefaultShell || !slices.Equal(c.Spawnargs(), []string{childproc.DefaultShell, "-c", "echo out; echo err >&2"}) {
		t.Fatalf("spawnfile %q spawnargs %q", c.Spawnfile(), c.Spawnargs())
	}
	stdout, stderr, err := output(t, c)
	if err != nil || string(stdout) != "out\n" || string(stderr) != "err\n" {
		t.Fatalf("exec: %q %q %v", stdout, stderr, err)
	}
	// Empty output is empty, not nil.
	c, err = childproc.Exec(t.Context(), "true", nil)
	if err != nil {
		t.Fatal(err)
	}
	stdout, stderr, err = output(t, c)
	if err != nil || stdout == nil || stderr == nil || len(stdout)+len(stderr) != 0 {
		t.Fatalf("true: %q %q %v", stdout, stderr, err)
	}
}

// Node: test-child-process-execfile; no shell is involved.
func TestExecFileOutput(t *testing.T) {
	t.Parallel()
	c, err := childproc.ExecFile(t.Context(), "printf", []string{"%s|", "a b", "$HOME", "*"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	stdout, _, err := output(t, c)
	if err != nil || string(stdout) != "a b|$HOME|*|" {
		t.Fatalf("execFile: %q %v", stdout, err)
	}
	if c.Spawnfile() != "printf" {
		t.Fatalf("spawnfile %q", c.Spawnfile())
	}
	// With Shell, ExecFile joins the arguments like spawn's shell option.
	c, err = childproc.ExecFile(t.Context(), "echo", []string{"$0"}, &childproc.Options{Shell: "/bin/sh"})
	if err != nil {
		t.Fatal(err)
	}
	stdout, _, err = output(t, c)
	if err != nil || string(stdout) != "/bin/sh\n" {
		t.Fatalf("execFile with shell: %q %v", stdout, err)
	}
}

// Node: test-child-process-exec-error, test-child-process-execfile.
func TestExecErrorFields(t *testing.T) {
	t.Parallel()
	cmd := "echo out; echo oops >&2; exit 3"
	c, err := childproc.Exec(t.Context(), cmd, nil)
	if err != nil {
		t.Fatal(err)
	}
	stdout, stderr, err := output(t, c)
	e := asError(t, err)
	if e.Code != "" || e.ExitCode != 3 || e.Signal != "" || e.Killed || e.TimedOut || e.Cmd != cmd {
		t.Fatalf("exit 3: %#v", e)
	}
	if string(stdout) != "out\n" || string(stderr) != "oops\n" || string(e.Stdout) != "out\n" || string(e.Stderr) != "oops\n" {
		t.Fatalf("output %q %q, in error %q %q", stdout, stderr, e.Stdout, e.Stderr)
	}
	if !strings.HasPrefix(e.Error(), "Command failed: "+cmd) || !strings.Contains(e.Error(), "oops") {
		t.Fatalf("message %q", e.Error())
	}
	// The shell's own "not found" is exit code 127.
	c, err = childproc.Exec(t.Context(), "childproc-no-such-command", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, stderr, err = output(t, c)
	if e := asError(t, err); e.ExitCode != 127 || !strings.Contains(string(stderr), "not found") {
		t.Fatalf("not found: %#v %q", e, stderr)
	}
	// ExecFile: Cmd is the file and its arguments joined by spaces.
	c, err = childproc.ExecFile(t.Context(), "sh", []string{"-c", "exit 5", "x"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = output(t, c)
	if e := asError(t, err); e.Cmd != "sh -c exit 5 x" || e.ExitCode != 5 {
		t.Fatalf("execFile: %#v", e)
	}
}

// An ExecFile that cannot start is the spawn error, with Cmd.
func TestExecFileENOENT(t *testing.T) {
	t.Parallel()
	c, err := childproc.ExecFile(t.Context(), "childproc-nope", []string{"a", "b"}, nil)
	if c != nil {
		t.Fatal("a child was returned with the error")
	}
	e := wantCode(t, err, "ENOENT")
	if e.Syscall != "spawn childproc-nope" || e.Path != "childproc-nope" || !slices.Equal(e.Spawnargs, []string{"a", "b"}) ||
		e.Cmd != "childproc-nope a b" || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("%#v", e)
	}
	// Exec with a missing shell.
	_, err = childproc.Exec(t.Context(), "echo hi", &childproc.Options{Shell: "/nonexistent/sh"})
	e = wantCode(t, err, "ENOENT")
	if e.Path != "/nonexistent/sh" || e.Cmd != "echo hi" {
		t.Fatalf("%#v", e)
	}
}

// Node: test-child-process-exec-maxbuf and execfile-maxbuf. Output of
// exactly MaxBuffer bytes is accepted.
func TestExecMaxBufferBoundary(t *testing.T) {
	t.Parallel()
	for _, stream := range []string{"stdout", "stderr"} {
		redirect := ""
		if stream == "stderr" {
			redirect = " >&2"
		}
		// The default is 1 MiB.
		c, err := childproc.Exec(t.Context(), "head -c 1048576 /dev/zero"+redirect, nil)
		if err != nil {
			t.Fatal(err)
		}
		stdout, stderr, err := output(t, c)
		got := map[string][]byte{"stdout": stdout, "stderr": stderr}[stream]
		if err != nil || len(got) != 1048576 {
			t.Fatalf("%s: exactly 1 MiB: %d bytes, %v", stream, len(got), err)
		}
		if c.Killed() {
			t.Fatalf("%s: a child within maxBuffer was killed", stream)
		}
	}
}

// The first MaxBuffer bytes are kept exactly, in order.
func TestExecMaxBufferKeepsPrefix(t *testing.T) {
	t.Parallel()
	c, err := childproc.ExecFile(t.Context(), "seq", []string{"1", "100000"}, &childproc.Options{MaxBuffer: 1000})
	if err != nil {
		t.Fatal(err)
	}
	stdout, _, err := output(t, c)
	wantCode(t, err, childproc.CodeMaxBuffer)
	var want strings.Builder
	for i := 1; want.Len() < 1000; i++ {
		want.WriteString(strconv.Itoa(i) + "\n")
	}
	if string(stdout) != want.String()[:1000] {
		t.Fatalf("kept %q...", stdout[:40])
	}
	// MaxBuffer math.MaxInt is no limit (Node's Infinity).
	c, err = childproc.Exec(t.Context(), "head -c 3000000 /dev/zero", &childproc.Options{MaxBuffer: int(^uint(0) >> 1)})
	if err != nil {
		t.Fatal(err)
	}
	stdout, _, err = output(t, c)
	if err != nil || len(stdout) != 3000000 {
		t.Fatalf("unlimited: %d %v", len(stdout), err)
	}
}

// Node: test-child-process-exec-timeout-expire, -timeout-kill.
func TestExecTimeout(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		killSignal os.Signal
		want       string
	}{{nil, "SIGTERM"}, {syscall.SIGKILL, "SIGKILL"}, {syscall.SIGUSR2, "SIGUSR2"}} {
		t.Run(tc.want, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			c, err := childproc.ExecFile(t.Context(), "sh", []string{"-c", "echo before; exec sleep 60"},
				&childproc.Options{Timeout: 200 * time.Millisecond, KillSignal: tc.killSignal})
			if err != nil {
				t.Fatal(err)
			}
			stdout, _, err := output(t, c)
			e := asError(t, err)
			if !e.Killed || !e.TimedOut || e.Signal != tc.want || e.ExitCode != -1 || e.Code != "" || e.Cmd != "sh -c echo before; exec sleep 60" {
				t.Fatalf("timeout: %#v", e)
			}
			if !strings.HasPrefix(e.Error(), "Command failed: sh -c echo before; exec sleep 60") {
				t.Fatalf("message %q", e.Error())
			}
			// Output written before the timeout is kept.
			if string(stdout) != "before\n" {
				t.Fatalf("stdout %q", stdout)
			}
			if el := time.Since(start); el < 200*time.Millisecond {
				t.Fatalf("timed out after %v", el)
			}
			if !c.Killed() || c.SignalCode() != tc.want {
				t.Fatalf("child: killed %v signal %q", c.Killed(), c.SignalCode())
			}
		})
	}
}

// Node: test-child-process-exec-timeout-not-expired.
func TestExecTimeoutNotExpired(t *testing.T) {
	t.Parallel()
	c, err := childproc.Exec(t.Context(), "echo ok", &childproc.Options{Timeout: long})
	if err != nil {
		t.Fatal(err)
	}
	stdout, _, err := output(t, c)
	if err != nil || string(stdout) != "ok\n" || c.Killed() {
		t.Fatalf("%q %v killed %v", stdout, err, c.Killed())
	}
}

// Node: test-child-process-exec-abortcontroller-promisified.
func TestExecAbort(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	c, err := childproc.ExecFile(ctx, "sleep", []string{"60"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(50*time.Millisecond, cancel)
	_, _, err = output(t, c)
	e := wantCode(t, err, childproc.CodeAbort)
	if !errors.Is(err, context.Canceled) || e.Signal != "SIGTERM" || e.Cmd != "sleep 60" || e.Stdout == nil {
		t.Fatalf("%#v", e)
	}
}

// Node: test-child-process-exec-cwd, test-child-process-exec-env.
func TestExecCwdEnv(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	want, _ := filepath.EvalSymlinks(dir)
	c, err := childproc.Exec(t.Context(), "pwd -P; echo $CHILDPROC_X", &childproc.Options{Cwd: dir, Env: []string{"CHILDPROC_X=y", "PATH=/usr/bin:/bin"}})
	if err != nil {
		t.Fatal(err)
	}
	stdout, _, err := output(t, c)
	if err != nil || string(stdout) != want+"\ny\n" {
		t.Fatalf("%q %v", stdout, err)
	}
	// Exec ignores Stdio and Argv0.
	c, err = childproc.Exec(t.Context(), "echo $0", &childproc.Options{Argv0: "x", Stdio: []any{childproc.Ignore, childproc.Ignore, childproc.Ignore}})
	if err != nil {
		t.Fatal(err)
	}
	stdout, _, err = output(t, c)
	if err != nil || string(stdout) != childproc.DefaultShell+"\n" {
		t.Fatalf("%q %v", stdout, err)
	}
}

// Exec's stdin is a pipe the caller may write when Stdio[0] asks for
// one; Input replaces it.
func TestExecStdin(t *testing.T) {
	t.Parallel()
	c, err := childproc.Exec(t.Context(), "tr a-z A-Z", &childproc.Options{Stdio: []any{childproc.Pipe}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Stdin == nil {
		t.Fatal("Exec: nil Stdin")
	}
	c.Stdin.Write([]byte("hello"))
	c.Stdin.Close()
	stdout, _, err := output(t, c)
	if err != nil || string(stdout) != "HELLO" {
		t.Fatalf("%q %v", stdout, err)
	}
	big := bytes.Repeat([]byte("x"), 300000)
	c, err = childproc.ExecFile(t.Context(), "wc", []string{"-c"}, &childproc.Options{Input: big})
	if err != nil {
		t.Fatal(err)
	}
	stdout, _, err = output(t, c)
	if err != nil || strings.TrimSpace(string(stdout)) != "300000" {
		t.Fatalf("%q %v", stdout, err)
	}
	if c.Stdin != nil {
		t.Fatal("Stdin is set although Input feeds the child")
	}
}

// Exec and ExecFile ignore Stdio, as Node's exec and execFile do (the
// docs of Exec say so): even entries that Spawn would refuse.
func TestExecIgnoresStdio(t *testing.T) {
	t.Parallel()
	for _, stdio := range [][]any{
		{childproc.Ignore, childproc.Ignore, childproc.Ignore, childproc.IPC},
		{nil, nil, nil, childproc.IPC, childproc.IPC},
		{"bogus", func() {}, 987},
	} {
		c, err := childproc.Exec(t.Context(), "echo hi", &childproc.Options{Stdio: stdio})
		if err != nil {
			t.Errorf("Exec with Stdio %v: %v", stdio, err)
			continue
		}
		stdout, _, err := output(t, c)
		if err != nil || string(stdout) != "hi\n" {
			t.Errorf("Exec with Stdio %v: %q %v", stdio, stdout, err)
		}
		c, err = childproc.ExecFile(t.Context(), "echo", []string{"hi"}, &childproc.Options{Stdio: stdio})
		if err != nil {
			t.Errorf("ExecFile with Stdio %v: %v", stdio, err)
			continue
		}
		if stdout, _, err := output(t, c); err != nil || string(stdout) != "hi\n" {
			t.Errorf("ExecFile with Stdio %v: %q %v", stdio, stdout, err)
		}
	}
}

// CombinedOutput keeps stdout and stderr in the order the child wrote
// them, MaxBuffer bytes of both together, and fails as ExecFile does.
func TestCombinedOutput(t *testing.T) {
	out, err := childproc.CombinedOutput(t.Context(), "sh", []string{"-c", "echo 1; echo 2 >&2; echo 3; echo 4 >&2"}, nil)
	if err != nil || string(out) != "1\n2\n3\n4\n" {
		t.Errorf("CombinedOutput = %q, %v, want the four lines in order", out, err)
	}
	out, err = childproc.CombinedOutput(t.Context(), "sh", []string{"-c", "echo out; echo err >&2; exit 3"}, nil)
	e := asError(t, err)
	if string(out) != "out\nerr\n" || e.ExitCode != 3 || string(e.Stdout) != "out\nerr\n" {
		t.Errorf("CombinedOutput of a failure = %q, %v (exit %d, Stdout %q)", out, err, e.ExitCode, e.Stdout)
	}
	out, err = childproc.CombinedOutput(t.Context(), "sh", []string{"-c", "echo 0123 >&2; echo 4567; sleep 30"}, &childproc.Options{MaxBuffer: 7})
	if e := wantCode(t, err, childproc.CodeMaxBuffer); string(out) != "0123\n45" || !errors.Is(e, childproc.ErrMaxBuffer) {
		t.Errorf("CombinedOutput past MaxBuffer = %q, %v, want the first 7 bytes", out, err)
	}
	_, err = childproc.CombinedOutput(t.Context(), "no-such-program-here", nil, nil)
	wantCode(t, err, "ENOENT")
	_, err = childproc.CombinedOutput(t.Context(), "", nil, nil)
	wantCode(t, err, childproc.CodeInvalidArgValue)
}

// QuoteShell makes every argument one word for sh, whatever it holds.
func TestQuoteShell(t *testing.T) {
	args := []string{"plain", "", "two words", "it's", `"double"`, "$HOME", "`id`", "a\nb", "*", "-n", "back\\slash", "tab\there", "ü"}
	out, err := childproc.ExecSync(`printf '%s\0' `+childproc.QuoteShell(args...), nil)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
	if !slices.Equal(got, args) {
		t.Errorf("sh saw %q, want %q", got, args)
	}
	if q := childproc.QuoteShell("a.b/c-d", "x=1"); q != "a.b/c-d x=1" {
		t.Errorf("QuoteShell of safe words = %q, want them as they are", q)
	}
}

// Node: test-child-process-exec-maxbuf, test-child-process-execfile-maxbuf,
// test-child-process-exec-stdout-stderr-data-string.
func TestPortExecMaxBuffer(t *testing.T) {
	t.Parallel()
	const mib = 1024 * 1024

	t.Run("exactly MaxBuffer is accepted", func(t *testing.T) {
		t.Parallel()
		stdout, _, err := portExec(t, "head -c 1048576 /dev/zero", nil)
		if err != nil || len(stdout) != mib {
			t.Fatalf("1 MiB of output with the default MaxBuffer: %d bytes, %v", len(stdout), err)
		}
		stdout, stderr, err := portExecFile(t, "sh", []string{"-c", "head -c 1000 /dev/zero; head -c 1000 /dev/zero >&2"}, &childproc.Options{MaxBuffer: 1000})
		if err != nil || len(stdout) != 1000 || len(stderr) != 1000 {
			t.Fatalf("MaxBuffer 1000, 1000 bytes on each stream: %d %d %v", len(stdout), len(stderr), err)
		}
	})

	t.Run("one byte more fails", func(t *testing.T) {
		t.Parallel()
		stdout, _, err := portExec(t, "head -c 1048577 /dev/zero", nil)
		e := wantCode(t, err, childproc.CodeMaxBuffer)
		if len(stdout) != mib || len(e.Stdout) != mib {
			t.Fatalf("kept %d bytes (error %d), want the first %d", len(stdout), len(e.Stdout), mib)
		}
		if !strings.Contains(err.Error(), "stdout maxBuffer length exceeded") {
			t.Fatalf("message %q", err)
		}
	})

	t.Run("the first MaxBuffer bytes are kept", func(t *testing.T) {
		t.Parallel()
		full := portSeq(100000)
		stdout, _, err := portExecFile(t, "seq", []string{"1", "100000"}, &childproc.Options{MaxBuffer: 4321})
		wantCode(t, err, childproc.CodeMaxBuffer)
		if !bytes.Equal(stdout, full[:4321]) {
			t.Fatalf("kept %d bytes that are not the output's first 4321", len(stdout))
		}
	})

	t.Run("the child is killed", func(t *testing.T) {
		t.Parallel()
		c, err := childproc.ExecFile(t.Context(), "yes", nil, &childproc.Options{MaxBuffer: 100})
		if err != nil {
			t.Fatal(err)
		}
		stdout, _, err := output(t, c)
		e := wantCode(t, err, childproc.CodeMaxBuffer)
		if len(stdout) != 100 || !e.Killed || e.Signal != "SIGTERM" || e.ExitCode != -1 || !c.Killed() || c.SignalCode() != "SIGTERM" {
			t.Fatalf("yes past MaxBuffer: %d bytes, killed %v/%v, signal %q/%q, exit %d", len(stdout), e.Killed, c.Killed(), e.Signal, c.SignalCode(), e.ExitCode)
		}
	})

	t.Run("stderr", func(t *testing.T) {
		t.Parallel()
		stdout, stderr, err := portExec(t, "echo out; exec yes err >&2", &childproc.Options{MaxBuffer: 50, KillSignal: syscall.SIGKILL})
		e := wantCode(t, err, childproc.CodeMaxBuffer)
		if string(stdout) != "out\n" || len(stderr) != 50 || string(stderr) != strings.Repeat("err\n", 13)[:50] {
			t.Fatalf("stdout %q stderr %q", stdout, stderr)
		}
		if !strings.Contains(err.Error(), "stderr maxBuffer length exceeded") || e.Signal != "SIGKILL" {
			t.Fatalf("error %q signal %q", err, e.Signal)
		}
	})

	t.Run("math.MaxInt is unlimited", func(t *testing.T) {
		t.Parallel()
		stdout, stderr, err := portExec(t, "head -c 2097152 /dev/zero; head -c 1048577 /dev/zero >&2", &childproc.Options{MaxBuffer: math.MaxInt})
		if err != nil || len(stdout) != 2*mib || len(stderr) != mib+1 {
			t.Fatalf("unlimited: %d %d %v", len(stdout), len(stderr), err)
		}
	})
}

// Node: test-child-process-exec-timeout-expire,
// test-child-process-exec-timeout-kill, test-child-process-exec-timeout-not-expired,
// test-child-process-execfile (timeout).
func TestPortExecTimeout(t *testing.T) {
	t.Parallel()

	t.Run("expires", func(t *testing.T) {
		t.Parallel()
		// Long enough for a loaded machine to run the echo first.
		stdout, _, err := portExec(t, "echo before; exec sleep 30", &childproc.Options{Timeout: 2 * time.Second})
		e := asError(t, err)
		if !e.Killed || e.Signal != "SIGTERM" || !e.TimedOut || e.ExitCode != -1 || e.Code != "" {
			t.Fatalf("timed-out exec: %#v", e)
		}
		if string(stdout) != "before\n" || string(e.Stdout) != "before\n" {
			t.Fatalf("stdout %q / %q", stdout, e.Stdout)
		}
		if !strings.HasPrefix(err.Error(), "Command failed: echo before; exec sleep 30") || !strings.Contains(err.Error(), "timed out") {
			t.Fatalf("message %q", err)
		}
	})

	t.Run("KillSignal", func(t *testing.T) {
		t.Parallel()
		c, err := childproc.ExecFile(t.Context(), "sleep", []string{"30"}, &childproc.Options{Timeout: 200 * time.Millisecond, KillSignal: syscall.SIGKILL})
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = output(t, c)
		e := asError(t, err)
		if !e.Killed || e.Signal != "SIGKILL" || !e.TimedOut || e.ExitCode != -1 {
			t.Fatalf("timed-out execFile with SIGKILL: %#v", e)
		}
		if c.SignalCode() != "SIGKILL" || c.ExitCode() != -1 || !c.Killed() {
			t.Fatalf("child: signal %q exit %d killed %v", c.SignalCode(), c.ExitCode(), c.Killed())
		}
	})

	t.Run("does not expire", func(t *testing.T) {
		t.Parallel()
		stdout, _, err := portExecFile(t, "echo", []string{"ok"}, &childproc.Options{Timeout: time.Minute})
		if err != nil || string(stdout) != "ok\n" {
			t.Fatalf("%q %v", stdout, err)
		}
		// A failing child within its timeout is a plain failure.
		_, _, err = portExec(t, "exit 2", &childproc.Options{Timeout: time.Minute})
		if e := asError(t, err); e.TimedOut || e.Killed || e.ExitCode != 2 {
			t.Fatalf("exit 2 within the timeout: %#v", e)
		}
	})
}

// Node: test-child-process-exec-error, test-child-process-exec-cwd (error
// fields), test-child-process-execfile (exit code).
func TestPortExecErrorFields(t *testing.T) {
	t.Parallel()
	const cmd = "echo out; echo oops >&2; exit 3"
	stdout, stderr, err := portExec(t, cmd, nil)
	e := asError(t, err)
	if e.ExitCode != 3 || e.Cmd != cmd || e.Code != "" || e.Signal != "" || e.Killed {
		t.Fatalf("fields: %#v", e)
	}
	if string(stdout) != "out\n" || string(stderr) != "oops\n" || string(e.Stdout) != "out\n" || string(e.Stderr) != "oops\n" {
		t.Fatalf("output %q %q, in the error %q %q", stdout, stderr, e.Stdout, e.Stderr)
	}
	if msg := err.Error(); !strings.HasPrefix(msg, "Command failed: "+cmd) || !strings.HasSuffix(msg, "\noops") {
		t.Fatalf("message %q", msg)
	}

	// A missing command: the shell reports it with 127.
	_, stderr, err = portExec(t, "childproc-no-such-command-xyz", nil)
	if e := asError(t, err); e.ExitCode != 127 || len(stderr) == 0 {
		t.Fatalf("missing command: exit %d, stderr %q", e.ExitCode, stderr)
	}

	// ExecFile: Cmd is the file and its arguments.
	_, _, err = portExecFile(t, "sh", []string{"-c", "exit 5"}, nil)
	if e := asError(t, err); e.ExitCode != 5 || e.Cmd != "sh -c exit 5" || !strings.HasPrefix(err.Error(), "Command failed: sh -c exit 5") {
		t.Fatalf("execFile: %#v %q", e, err)
	}

	// Spawn's Wait carries the same fields, without output.
	c, err := childproc.Spawn(t.Context(), "sh", []string{"-c", "exit 7"}, &childproc.Options{Stdio: portQuiet()})
	if err != nil {
		t.Fatal(err)
	}
	if e := asError(t, waitFor(t, c)); e.ExitCode != 7 || e.Cmd != "sh -c exit 7" || c.ExitCode() != 7 {
		t.Fatalf("spawn: %#v, ExitCode %d", e, c.ExitCode())
	}
}

// Node: test-child-process-exec-stdout-stderr-data-string and the event
// order of test-child-process-stdio-inherit / -flush-exit: 'exit' comes
// when the child ends, 'close' once the grandchild holding its stdout is
// done, and output nobody read by then is all still there.
func TestPortExitBeforeClose(t *testing.T) {
	t.Parallel()
	start := time.Now()
	c, err := childproc.Spawn(t.Context(), "sh", []string{"-c", "(sleep 0.3; echo late) & echo early"},
		&childproc.Options{Stdio: []any{childproc.Ignore, childproc.Pipe, childproc.Ignore}})
	if err != nil {
		t.Fatal(err)
	}
	waitExited(t, c)
	select {
	case <-c.Done():
		t.Logf("sh took %v to exit; Done was already closed", time.Since(start))
	default:
		if c.ExitCode() != 0 {
			t.Fatalf("ExitCode %d after Exited", c.ExitCode())
		}
	}
	if err := waitFor(t, c); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Fatalf("Wait returned after %v, before the grandchild wrote", d)
	}
	select {
	case <-c.Exited():
	default:
		t.Fatal("Wait returned while Exited is open")
	}
	if out := readAll(t, c.Stdout); out != "early\nlate\n" {
		t.Fatalf("stdout read after Wait: %q", out)
	}
}

// Node: test-child-process-spawn-shell, test-child-process-exec-env
// (shell option): the arguments are joined with spaces and not quoted.
func TestPortShell(t *testing.T) {
	t.Parallel()
	out, _, err := spawnOut(t, "echo", []string{"a  b"}, &childproc.Options{Shell: "/bin/sh"})
	if err != nil || out != "a b\n" {
		t.Fatalf("shell joins unquoted: %q %v", out, err)
	}
	// Without a shell the argument arrives whole.
	out, _, err = spawnOut(t, "echo", []string{"a  b"}, nil)
	if err != nil || out != "a  b\n" {
		t.Fatalf("no shell: %q %v", out, err)
	}
	// ExecFile with Shell, and shell syntax in the arguments.
	stdout, _, err := portExecFile(t, "echo", []string{"$((6*7))", "|", "tr", "4", "x"}, &childproc.Options{Shell: childproc.DefaultShell})
	if err != nil || string(stdout) != "x2\n" {
		t.Fatalf("execFile through a shell: %q %v", stdout, err)
	}
	if r := childproc.SpawnSync("echo", []string{"$HOME"}, &childproc.Options{Shell: "/bin/sh", Env: []string{"HOME=/port"}}); string(r.Stdout) != "/port\n" {
		t.Fatalf("spawnSync through a shell: %q %v", r.Stdout, r.Err)
	}
}
