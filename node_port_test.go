//go:build linux

package childproc_test

// Behaviours of Node's test/parallel/test-child-process-*.js, ported to
// childproc: each test names the Node tests it follows. They run real
// processes (sh, sleep, cat, head, node) and real signals.

import (
	"bufio"
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

// Node: test-child-process-spawn-error, test-child-process-spawnsync
// (ENOENT), test-child-process-exec-any-shells-windows (EACCES on POSIX).
// Not parallel: it checks that no child process appeared.
func TestPortSpawnErrors(t *testing.T) {
	kids := ourChildren()
	c, err := childproc.Spawn(t.Context(), "nope", []string{"a", "b"}, nil)
	if c != nil {
		t.Fatal("a Child for a missing program")
	}
	e := wantCode(t, err, "ENOENT")
	if e.Syscall != "spawn nope" || e.Path != "nope" || !slices.Equal(e.Spawnargs, []string{"a", "b"}) || e.Errno != syscall.ENOENT || e.ExitCode != -1 {
		t.Fatalf("ENOENT fields: %#v", e)
	}
	if !errors.Is(err, fs.ErrNotExist) || !errors.Is(err, syscall.ENOENT) {
		t.Fatalf("errors.Is(%v, fs.ErrNotExist) is false", err)
	}
	if err.Error() != "spawn nope ENOENT" {
		t.Fatalf("message %q", err)
	}
	if r := childproc.SpawnSync("nope", nil, nil); r.Pid != 0 || r.Status != -1 || r.Rusage != nil {
		t.Fatalf("spawnSync nope: %+v", r)
	} else if e := wantCode(t, r.Err, "ENOENT"); e.Syscall != "spawnSync nope" {
		t.Fatalf("spawnSync Syscall %q", e.Syscall)
	}

	dir := t.TempDir()
	plain := writeFile(t, dir, "plain", "#!/bin/sh\necho ran\n", 0o644)
	for _, path := range []string{plain, dir} {
		_, err := childproc.Spawn(t.Context(), path, nil, nil)
		if e := wantCode(t, err, "EACCES"); e.Path != path || e.Syscall != "spawn "+path || !errors.Is(err, fs.ErrPermission) {
			t.Fatalf("EACCES of %s: %#v", path, e)
		}
		_, err = childproc.ExecFile(t.Context(), path, nil, nil)
		wantCode(t, err, "EACCES")
		_, err = childproc.ExecFileSync(path, nil, nil)
		wantCode(t, err, "EACCES")
	}
	if left := newChildren(kids, ourChildren()); len(left) > 0 {
		t.Fatalf("failed spawns left processes %v", left)
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

// Node: test-child-process-spawn-argv0, test-child-process-spawnsync (argv0).
func TestPortArgv0(t *testing.T) {
	t.Parallel()
	out, _, err := spawnOut(t, "cat", []string{"/proc/self/cmdline"}, &childproc.Options{Argv0: "port-argv0"})
	if err != nil || out != "port-argv0\x00/proc/self/cmdline\x00" {
		t.Fatalf("cmdline %q %v", out, err)
	}
	c, err := childproc.Spawn(t.Context(), "sh", []string{"-c", "echo $0"}, &childproc.Options{Argv0: "port-sh", Stdio: []any{childproc.Ignore, childproc.Pipe, childproc.Ignore}})
	if err != nil {
		t.Fatal(err)
	}
	if out := readAll(t, c.Stdout); out != "port-sh\n" {
		t.Fatalf("$0 %q", out)
	}
	waitFor(t, c)
	if c.Spawnfile() != "sh" || !slices.Equal(c.Spawnargs(), []string{"port-sh", "-c", "echo $0"}) {
		t.Fatalf("spawnfile %q spawnargs %q", c.Spawnfile(), c.Spawnargs())
	}
	if r := childproc.SpawnSync("sh", []string{"-c", "echo $0"}, &childproc.Options{Argv0: "port-sync"}); string(r.Stdout) != "port-sync\n" {
		t.Fatalf("spawnSync $0 %q %v", r.Stdout, r.Err)
	}
	if b, err := childproc.ExecFileSync("sh", []string{"-c", "echo $0"}, &childproc.Options{Argv0: "port-efs"}); err != nil || string(b) != "port-efs\n" {
		t.Fatalf("execFileSync $0 %q %v", b, err)
	}
	// Exec ignores Argv0: $0 is the shell.
	stdout, _, err := portExec(t, "echo $0", &childproc.Options{Argv0: "ignored"})
	if err != nil || string(stdout) != childproc.DefaultShell+"\n" {
		t.Fatalf("exec $0 %q %v", stdout, err)
	}
}

// Node: test-child-process-detached.
func TestPortDetached(t *testing.T) {
	t.Parallel()
	c, err := childproc.Spawn(t.Context(), "sleep", []string{"30"}, &childproc.Options{Detached: true, Stdio: portQuiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { c.Kill(syscall.SIGKILL); waitFor(t, c) }()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(c.Pid()) + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	// Field 6 is the session id; the command (field 2) may hold spaces,
	// so count from its closing parenthesis.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if pid := strconv.Itoa(c.Pid()); f[3] != pid || f[2] != pid {
		t.Fatalf("detached child %s: session %s, process group %s", pid, f[3], f[2])
	}
}

// Node: test-child-process-kill, test-child-process-spawn-typeerror (kill
// with a bad signal), test-child-process-exec-kill-throws,
// test-child-process-kill-after-exit (subprocess.kill() returns false).
func TestPortKill(t *testing.T) {
	t.Parallel()
	start := func(opts *childproc.Options) *childproc.Child {
		t.Helper()
		if opts == nil {
			opts = &childproc.Options{}
		}
		opts.Stdio = portQuiet()
		c, err := childproc.Spawn(t.Context(), "sleep", []string{"30"}, opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Kill(syscall.SIGKILL); <-c.Done() })
		return c
	}

	t.Run("any signal", func(t *testing.T) {
		t.Parallel()
		// Not SIGINT or SIGHUP: a test run in the background by a shell
		// (or under nohup) has them ignored, and so would sleep.
		for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGALRM, syscall.SIGPIPE} {
			c := start(nil)
			if c.ExitCode() != -1 || c.SignalCode() != "" || c.Killed() || c.Rusage() != nil {
				t.Fatalf("running: exit %d signal %q killed %v", c.ExitCode(), c.SignalCode(), c.Killed())
			}
			if err := c.Kill(sig); err != nil {
				t.Fatalf("Kill(%v): %v", sig, err)
			}
			if !c.Killed() {
				t.Fatalf("Killed false after Kill(%v)", sig)
			}
			e := asError(t, waitFor(t, c))
			name := portSignalName(sig)
			if e.Signal != name || c.SignalCode() != name || c.ExitCode() != -1 || e.ExitCode != -1 || !e.Killed {
				t.Fatalf("after %v: error %#v, SignalCode %q ExitCode %d", sig, e, c.SignalCode(), c.ExitCode())
			}
			if c.Rusage() == nil {
				t.Fatal("no Rusage after exit")
			}
		}
	})

	t.Run("nil is KillSignal", func(t *testing.T) {
		t.Parallel()
		c := start(&childproc.Options{KillSignal: syscall.SIGUSR2})
		if err := c.Kill(nil); err != nil {
			t.Fatal(err)
		}
		if e := asError(t, waitFor(t, c)); e.Signal != "SIGUSR2" {
			t.Fatalf("Kill(nil) with KillSignal SIGUSR2: %v", e)
		}
		c = start(nil)
		c.Kill(nil)
		if e := asError(t, waitFor(t, c)); e.Signal != "SIGTERM" {
			t.Fatalf("Kill(nil): %v", e)
		}
	})

	t.Run("signal 0", func(t *testing.T) {
		t.Parallel()
		c := start(nil)
		if err := c.Kill(syscall.Signal(0)); err != nil {
			t.Fatalf("Kill(0): %v", err)
		}
		if !c.Killed() {
			t.Fatal("Kill(0) did not set Killed")
		}
		select {
		case <-c.Exited():
			t.Fatal("signal 0 ended the child")
		case <-time.After(100 * time.Millisecond):
		}
		if c.ExitCode() != -1 || c.SignalCode() != "" {
			t.Fatalf("still running: exit %d signal %q", c.ExitCode(), c.SignalCode())
		}
	})

	t.Run("after exit", func(t *testing.T) {
		t.Parallel()
		c, err := childproc.Spawn(t.Context(), "true", nil, &childproc.Options{Stdio: portQuiet()})
		if err != nil {
			t.Fatal(err)
		}
		if err := waitFor(t, c); err != nil {
			t.Fatal(err)
		}
		if c.ExitCode() != 0 || c.SignalCode() != "" || c.Killed() {
			t.Fatalf("after exit: %d %q %v", c.ExitCode(), c.SignalCode(), c.Killed())
		}
		for _, sig := range []os.Signal{syscall.SIGTERM, nil, syscall.Signal(0)} {
			err := c.Kill(sig)
			e := wantCode(t, err, "ESRCH")
			if !errors.Is(err, os.ErrProcessDone) || e.Syscall != "kill" {
				t.Fatalf("Kill(%v) after exit: %#v", sig, e)
			}
		}
		if c.Killed() {
			t.Fatal("a failed Kill set Killed")
		}
	})

	t.Run("unknown signal", func(t *testing.T) {
		t.Parallel()
		c := start(nil)
		for _, sig := range []os.Signal{syscall.Signal(99), syscall.Signal(-1)} {
			wantCode(t, c.Kill(sig), childproc.CodeUnknownSignal)
		}
		if c.Killed() {
			t.Fatal("an unknown signal set Killed")
		}
	})
}

// portSignalName names the common signals the way Node does.
func portSignalName(sig syscall.Signal) string {
	return map[syscall.Signal]string{
		syscall.SIGTERM: "SIGTERM", syscall.SIGKILL: "SIGKILL", syscall.SIGUSR1: "SIGUSR1",
		syscall.SIGUSR2: "SIGUSR2", syscall.SIGALRM: "SIGALRM", syscall.SIGPIPE: "SIGPIPE",
	}[sig]
}

// Node: test-child-process-spawn-controller, test-child-process-exec-abortcontroller-promisified,
// test-child-process-execfile-abortcontroller (signal option).
func TestPortAbort(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"spawn", "exec", "execFile", "fork"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			var (
				c   *childproc.Child
				err error
			)
			switch kind {
			case "spawn":
				c, err = childproc.Spawn(ctx, "sleep", []string{"30"}, &childproc.Options{Stdio: portQuiet()})
			case "exec":
				c, err = childproc.Exec(ctx, "exec sleep 30", nil)
			case "execFile":
				c, err = childproc.ExecFile(ctx, "sleep", []string{"30"}, nil)
			case "fork":
				c, err = childproc.Fork(ctx, "testdata/port/echo.js", nil, &childproc.Options{Silent: true})
			}
			if err != nil {
				t.Fatal(err)
			}
			cancel()
			err = waitFor(t, c)
			e := wantCode(t, err, childproc.CodeAbort)
			if !errors.Is(err, context.Canceled) || e.Signal != "SIGTERM" || !e.Killed || e.ExitCode != -1 {
				t.Fatalf("abort: %#v", e)
			}
			if c.SignalCode() != "SIGTERM" || !c.Killed() {
				t.Fatalf("child: signal %q killed %v", c.SignalCode(), c.Killed())
			}
		})
	}
	// The cause is kept.
	t.Run("cause", func(t *testing.T) {
		t.Parallel()
		cause := errors.New("port: shutting down")
		ctx, cancel := context.WithCancelCause(t.Context())
		c, err := childproc.Spawn(ctx, "sleep", []string{"30"}, &childproc.Options{Stdio: portQuiet(), KillSignal: syscall.SIGUSR1})
		if err != nil {
			t.Fatal(err)
		}
		cancel(cause)
		err = waitFor(t, c)
		if e := wantCode(t, err, childproc.CodeAbort); !errors.Is(err, cause) || e.Signal != "SIGUSR1" {
			t.Fatalf("abort with a cause: %#v", e)
		}
	})
}

// Node starts the child and kills it at once when the signal is already
// aborted; childproc starts nothing. Not parallel: it counts children.
func TestPortAbortBeforeStart(t *testing.T) {
	kids := ourChildren()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	marker := filepath.Join(t.TempDir(), "ran")
	script := "touch " + marker
	c, err := childproc.Spawn(ctx, "sh", []string{"-c", script}, nil)
	if c != nil {
		t.Fatal("Spawn with a done ctx returned a Child")
	}
	if e := wantCode(t, err, childproc.CodeAbort); !errors.Is(err, context.Canceled) || e.ExitCode != -1 {
		t.Fatalf("%#v", e)
	}
	_, err = childproc.Exec(ctx, script, nil)
	wantCode(t, err, childproc.CodeAbort)
	_, err = childproc.ExecFile(ctx, "sh", []string{"-c", script}, nil)
	wantCode(t, err, childproc.CodeAbort)
	_, err = childproc.Fork(ctx, "testdata/port/echo.js", nil, nil)
	wantCode(t, err, childproc.CodeAbort)
	if left := newChildren(kids, ourChildren()); len(left) > 0 {
		t.Fatalf("children appeared: %v", left)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("the command ran")
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

// Node: test-child-process-spawnsync, test-child-process-spawnsync-input,
// test-child-process-spawnsync-timeout, test-child-process-spawnsync-maxbuf,
// test-child-process-spawnsync-kill-signal.
func TestPortSpawnSync(t *testing.T) {
	t.Parallel()

	t.Run("input and fields", func(t *testing.T) {
		t.Parallel()
		r := childproc.SpawnSync("sh", []string{"-c", "cat; echo err >&2; exit 4"}, &childproc.Options{Input: []byte("hello\n")})
		if r.Err != nil || r.Status != 4 || r.Signal != "" || r.Pid <= 0 {
			t.Fatalf("%+v", r)
		}
		if len(r.Output) != 3 || r.Output[0] != nil || string(r.Output[1]) != "hello\n" || string(r.Output[2]) != "err\n" {
			t.Fatalf("Output %q", r.Output)
		}
		if string(r.Stdout) != "hello\n" || string(r.Stderr) != "err\n" {
			t.Fatalf("Stdout %q Stderr %q", r.Stdout, r.Stderr)
		}
		if r.Rusage == nil {
			t.Fatal("no Rusage")
		}
		// Without Input stdin is at its end at once.
		if r := childproc.SpawnSync("cat", nil, nil); r.Err != nil || r.Status != 0 || len(r.Stdout) != 0 {
			t.Fatalf("cat without input: %+v", r)
		}
		// A signal.
		r = childproc.SpawnSync("sh", []string{"-c", "kill -USR1 $$"}, nil)
		if r.Err != nil || r.Status != -1 || r.Signal != "SIGUSR1" {
			t.Fatalf("signalled: %+v", r)
		}
	})

	t.Run("timeout", func(t *testing.T) {
		t.Parallel()
		r := childproc.SpawnSync("sh", []string{"-c", "echo part; exec sleep 30"}, &childproc.Options{Timeout: 2 * time.Second})
		e := wantCode(t, r.Err, childproc.CodeTimedOut)
		if r.Signal != "SIGTERM" || r.Status != -1 || string(r.Stdout) != "part\n" || e.Signal != "SIGTERM" || !e.TimedOut || e.Syscall != "spawnSync sh" {
			t.Fatalf("timeout: %+v, %#v", r, e)
		}
		if !errors.Is(r.Err, syscall.ETIMEDOUT) {
			t.Fatalf("errors.Is(%v, ETIMEDOUT) is false", r.Err)
		}
		r = childproc.SpawnSync("sleep", []string{"30"}, &childproc.Options{Timeout: 200 * time.Millisecond, KillSignal: syscall.SIGKILL})
		if wantCode(t, r.Err, childproc.CodeTimedOut); r.Signal != "SIGKILL" {
			t.Fatalf("timeout with SIGKILL: %+v", r)
		}
	})

	t.Run("maxBuffer", func(t *testing.T) {
		t.Parallel()
		r := childproc.SpawnSync("yes", nil, &childproc.Options{MaxBuffer: 100})
		e := wantCode(t, r.Err, childproc.CodeNoBufs)
		if len(r.Stdout) != 100 || r.Signal != "SIGTERM" || !e.Killed {
			t.Fatalf("maxBuffer: %d bytes, signal %q, %#v", len(r.Stdout), r.Signal, e)
		}
		if r := childproc.SpawnSync("head", []string{"-c", "100", "/dev/zero"}, &childproc.Options{MaxBuffer: 100}); r.Err != nil || len(r.Stdout) != 100 {
			t.Fatalf("exactly MaxBuffer: %d %v", len(r.Stdout), r.Err)
		}
	})

	t.Run("inherit", func(t *testing.T) {
		t.Parallel()
		r := childproc.SpawnSync("true", nil, &childproc.Options{Stdio: []any{childproc.Inherit, childproc.Inherit, childproc.Inherit}})
		if r.Err != nil || r.Status != 0 || r.Stdout != nil || r.Stderr != nil || r.Output[1] != nil || r.Output[2] != nil {
			t.Fatalf("inherit: %+v", r)
		}
		r = childproc.SpawnSync("echo", []string{"x"}, &childproc.Options{Stdio: []any{childproc.Ignore, childproc.Pipe, childproc.Ignore}})
		if string(r.Stdout) != "x\n" || r.Stderr != nil {
			t.Fatalf("pipe, ignore: %q %q", r.Stdout, r.Stderr)
		}
	})

	t.Run("uid", func(t *testing.T) {
		t.Parallel()
		if os.Getuid() != 0 {
			t.Skip("needs root")
		}
		// Not 65534 (nobody): the fork-bomb test counts that user's
		// processes and RLIMIT_NPROC is per user, machine-wide, so
		// ids no one else uses (id prints them without a passwd entry).
		uid, gid := 4545, 4646
		if r := childproc.SpawnSync("id", []string{"-u"}, &childproc.Options{UID: &uid}); string(r.Stdout) != "4545\n" {
			t.Fatalf("id -u: %q %v", r.Stdout, r.Err)
		}
		if b, err := childproc.ExecSync("id -g", &childproc.Options{GID: &gid}); err != nil || string(b) != "4646\n" {
			t.Fatalf("id -g: %q %v", b, err)
		}
		if out, _, err := spawnOut(t, "id", []string{"-u"}, &childproc.Options{UID: &uid}); err != nil || out != "4545\n" {
			t.Fatalf("spawn id -u: %q %v", out, err)
		}
	})
}

// Node: test-child-process-execsync, test-child-process-execfilesync.
func TestPortExecSync(t *testing.T) {
	t.Parallel()
	pipes := []any{childproc.Pipe, childproc.Pipe, childproc.Pipe}
	if b, err := childproc.ExecSync("echo hi | tr h H", nil); err != nil || string(b) != "Hi\n" {
		t.Fatalf("execSync: %q %v", b, err)
	}
	if b, err := childproc.ExecFileSync("echo", []string{"a  b"}, nil); err != nil || string(b) != "a  b\n" {
		t.Fatalf("execFileSync: %q %v", b, err)
	}
	if b, err := childproc.ExecSync("cat", &childproc.Options{Input: []byte("in")}); err != nil || string(b) != "in" {
		t.Fatalf("execSync input: %q %v", b, err)
	}

	b, err := childproc.ExecSync("echo out; echo err >&2; exit 4", &childproc.Options{Stdio: pipes})
	e := asError(t, err)
	if e.ExitCode != 4 || e.Signal != "" || string(e.Stdout) != "out\n" || string(e.Stderr) != "err\n" || string(b) != "out\n" {
		t.Fatalf("execSync failure: %q %#v", b, e)
	}
	if !strings.HasPrefix(err.Error(), "Command failed: echo out; echo err >&2; exit 4") {
		t.Fatalf("message %q", err)
	}

	_, err = childproc.ExecFileSync("sh", []string{"-c", "kill -TERM $$"}, &childproc.Options{Stdio: pipes})
	if e := asError(t, err); e.Signal != "SIGTERM" || e.ExitCode != -1 || e.Cmd != "sh -c kill -TERM $$" {
		t.Fatalf("execFileSync signalled: %#v", e)
	}

	_, err = childproc.ExecFileSync("sleep", []string{"30"}, &childproc.Options{Timeout: 200 * time.Millisecond})
	if e := wantCode(t, err, childproc.CodeTimedOut); e.Signal != "SIGTERM" {
		t.Fatalf("execFileSync timeout: %#v", e)
	}
	b, err = childproc.ExecSync("yes", &childproc.Options{MaxBuffer: 10})
	if wantCode(t, err, childproc.CodeNoBufs); string(b) != "y\ny\ny\ny\ny\n" {
		t.Fatalf("execSync maxBuffer kept %q", b)
	}
	_, err = childproc.ExecFileSync("childproc-no-such-file", nil, nil)
	if e := wantCode(t, err, "ENOENT"); e.Syscall != "spawnSync childproc-no-such-file" {
		t.Fatalf("%#v", e)
	}
}

// Node: test-child-process-fork, test-child-process-fork-net (messages),
// test-child-process-fork-stdio (silent), test-child-process-fork-exec-argv,
// test-child-process-fork-stdio-string-variant (ipc required).
func TestPortFork(t *testing.T) {
	t.Parallel()
	recv := func(t *testing.T, c *childproc.Child) any {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), long)
		defer cancel()
		m, err := c.Recv(ctx)
		if err != nil {
			t.Fatalf("Recv: %v", err)
		}
		var v any
		if err := m.Decode(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}

	t.Run("echo", func(t *testing.T) {
		t.Parallel()
		c, err := childproc.Fork(t.Context(), "testdata/port/echo.js", []string{"x", "y z"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if c.Spawnfile() != "node" || !slices.Equal(c.Spawnargs(), []string{"node", "testdata/port/echo.js", "x", "y z"}) {
			t.Fatalf("spawnfile %q spawnargs %q", c.Spawnfile(), c.Spawnargs())
		}
		for _, msg := range []any{"hello", map[string]any{"n": 1.0, "list": []any{"a", true, nil}}, 2.5} {
			if err := c.Send(msg); err != nil {
				t.Fatal(err)
			}
			if got := recv(t, c); !portEqualJSON(got, msg) {
				t.Fatalf("sent %v, got back %v", msg, got)
			}
		}
		c.Send("argv")
		if got := recv(t, c); !portEqualJSON(got, []any{"x", "y z"}) {
			t.Fatalf("argv %v", got)
		}
		c.Send("exit")
		if err := waitFor(t, c); err != nil {
			t.Fatal(err)
		}
		if c.Connected() {
			t.Fatal("connected after exit")
		}
	})

	t.Run("silent", func(t *testing.T) {
		t.Parallel()
		c, err := childproc.Fork(t.Context(), "testdata/port/echo.js", []string{"--hello"}, &childproc.Options{Silent: true})
		if err != nil {
			t.Fatal(err)
		}
		if c.Stdin == nil || c.Stdout == nil || c.Stderr == nil {
			t.Fatal("Silent fork without pipes")
		}
		line, err := bufio.NewReader(c.Stdout).ReadString('\n')
		if err != nil || line != "hello\n" {
			t.Fatalf("child stdout %q %v", line, err)
		}
		c.Send("exit")
		if err := waitFor(t, c); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("execArgv", func(t *testing.T) {
		t.Parallel()
		c, err := childproc.Fork(t.Context(), "testdata/port/echo.js", nil, &childproc.Options{ExecArgv: []string{"--max-old-space-size=64", "--no-warnings"}, Silent: true})
		if err != nil {
			t.Fatal(err)
		}
		c.Send("execArgv")
		if got := recv(t, c); !portEqualJSON(got, []any{"--max-old-space-size=64", "--no-warnings"}) {
			t.Fatalf("execArgv %v", got)
		}
		c.Send("exit")
		if err := waitFor(t, c); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("IPC required", func(t *testing.T) {
		t.Parallel()
		_, err := childproc.Fork(t.Context(), "testdata/port/echo.js", nil, &childproc.Options{Stdio: []any{childproc.Pipe, childproc.Pipe, childproc.Pipe}})
		wantCode(t, err, childproc.CodeIPCRequired)
		c, err := childproc.Fork(t.Context(), "testdata/port/echo.js", nil, &childproc.Options{Stdio: []any{childproc.Ignore, childproc.Ignore, childproc.Ignore, childproc.Ignore, childproc.IPC}})
		if err != nil {
			t.Fatal(err)
		}
		c.Send("ping")
		if got := recv(t, c); got != "ping" {
			t.Fatalf("IPC at fd 4: %v", got)
		}
		c.Disconnect()
		if err := waitFor(t, c); err != nil {
			t.Fatal(err)
		}
	})
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
