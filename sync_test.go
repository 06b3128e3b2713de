//go:build unix

package childproc_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/childproc/childproc"
)

// Node: test-child-process-spawnsync, -spawnsync-input, -spawnsync-args.
func TestSpawnSync(t *testing.T) {
	t.Parallel()
	r := childproc.SpawnSync("sh", []string{"-c", "cat; echo err >&2"}, &childproc.Options{Input: []byte("hello")})
	if r.Err != nil || r.Status != 0 || r.Signal != "" || r.Pid <= 0 {
		t.Fatalf("result %+v", r)
	}
	if len(r.Output) != 3 || r.Output[0] != nil || string(r.Output[1]) != "hello" || string(r.Output[2]) != "err\n" {
		t.Fatalf("output %q", r.Output)
	}
	if string(r.Stdout) != "hello" || string(r.Stderr) != "err\n" {
		t.Fatalf("stdout %q stderr %q", r.Stdout, r.Stderr)
	}
	if r.Rusage == nil {
		t.Fatal("no rusage")
	}
	// No Input: stdin is at EOF at once (cat does not wait).
	r = childproc.SpawnSync("cat", nil, nil)
	if r.Err != nil || r.Status != 0 || len(r.Stdout) != 0 || r.Stdout == nil {
		t.Fatalf("cat without input: %+v", r)
	}
	// Big input and output in both directions at once.
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16)
	r = childproc.SpawnSync("sh", []string{"-c", "cat; cat /dev/null >&2"}, &childproc.Options{Input: big})
	if r.Err != nil || !bytes.Equal(r.Stdout, big) {
		t.Fatalf("1 MiB through cat: %d bytes, %v", len(r.Stdout), r.Err)
	}
}

func TestSpawnSyncStatusAndSignal(t *testing.T) {
	t.Parallel()
	r := childproc.SpawnSync("sh", []string{"-c", "echo out; exit 2"}, nil)
	if r.Err != nil || r.Status != 2 || r.Signal != "" || string(r.Stdout) != "out\n" {
		t.Fatalf("exit 2: %+v", r)
	}
	r = childproc.SpawnSync("sh", []string{"-c", "kill -KILL $$"}, nil)
	if r.Err != nil || r.Status != -1 || r.Signal != "SIGKILL" || r.Pid <= 0 {
		t.Fatalf("killed: %+v", r)
	}
}

// Node's ENOENT shape: Status -1 (null), Pid 0, Output nil, and the error
// with Syscall "spawnSync <file>".
func TestSpawnSyncENOENT(t *testing.T) {
	t.Parallel()
	r := childproc.SpawnSync("childproc-nope", []string{"a"}, nil)
	e := wantCode(t, r.Err, "ENOENT")
	if e.Syscall != "spawnSync childproc-nope" || e.Path != "childproc-nope" || !slices.Equal(e.Spawnargs, []string{"a"}) || e.Errno != syscall.ENOENT {
		t.Fatalf("%#v", e)
	}
	if !errors.Is(r.Err, fs.ErrNotExist) {
		t.Fatal("not fs.ErrNotExist")
	}
	if r.Pid != 0 || r.Status != -1 || r.Signal != "" || r.Output != nil || r.Stdout != nil || r.Stderr != nil || r.Rusage != nil {
		t.Fatalf("result %+v", r)
	}
}

// Node: test-child-process-spawnsync-timeout, -spawnsync-kill-signal.
func TestSpawnSyncTimeout(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		sig  os.Signal
		want string
	}{{nil, "SIGTERM"}, {syscall.SIGKILL, "SIGKILL"}} {
		start := time.Now()
		r := childproc.SpawnSync("sh", []string{"-c", "echo started; exec sleep 60"}, &childproc.Options{Timeout: 200 * time.Millisecond, KillSignal: tc.sig})
		e := wantCode(t, r.Err, childproc.CodeTimedOut)
		if e.Errno != syscall.ETIMEDOUT || e.Syscall != "spawnSync sh" || e.Path != "sh" || e.Signal != tc.want || !e.TimedOut {
			t.Fatalf("%#v", e)
		}
		if r.Signal != tc.want || r.Status != -1 || r.Pid <= 0 || string(r.Stdout) != "started\n" {
			t.Fatalf("result %+v", r)
		}
		if el := time.Since(start); el < 200*time.Millisecond || el > long {
			t.Fatalf("took %v", el)
		}
		if e.Error() != "spawnSync sh ETIMEDOUT" {
			t.Fatalf("message %q", e.Error())
		}
	}
}

// Node: test-child-process-spawnsync-maxbuf: ENOBUFS, the child killed.
// childproc keeps the first MaxBuffer bytes (Node may keep more).
func TestSpawnSyncMaxBuffer(t *testing.T) {
	t.Parallel()
	for _, stream := range []string{"stdout", "stderr"} {
		redirect := map[string]string{"stdout": "", "stderr": " >&2"}[stream]
		r := childproc.SpawnSync("sh", []string{"-c", "printf 0123456789" + redirect + "; exec sleep 60"}, &childproc.Options{MaxBuffer: 4})
		e := wantCode(t, r.Err, childproc.CodeNoBufs)
		if e.Errno != syscall.ENOBUFS || e.Syscall != "spawnSync sh" || r.Signal != "SIGTERM" || r.Status != -1 {
			t.Fatalf("%s: %#v %+v", stream, e, r)
		}
		got := map[string][]byte{"stdout": r.Stdout, "stderr": r.Stderr}[stream]
		if string(got) != "0123" {
			t.Fatalf("%s: kept %q", stream, got)
		}
	}
	// Exactly MaxBuffer bytes are fine.
	r := childproc.SpawnSync("printf", []string{"0123"}, &childproc.Options{MaxBuffer: 4})
	if r.Err != nil || string(r.Stdout) != "0123" {
		t.Fatalf("exactly MaxBuffer: %+v", r)
	}
}

// Node: stdio 'inherit' gives null outputs; an extra pipe is collected.
func TestSpawnSyncStdio(t *testing.T) {
	t.Parallel()
	r := childproc.SpawnSync("true", nil, &childproc.Options{Stdio: []any{childproc.Inherit, childproc.Inherit, childproc.Inherit}})
	if r.Err != nil || len(r.Output) != 3 || r.Output[0] != nil || r.Output[1] != nil || r.Output[2] != nil || r.Stdout != nil || r.Stderr != nil {
		t.Fatalf("inherit: %+v", r)
	}
	r = childproc.SpawnSync("sh", []string{"-c", "echo one; echo three >&3"}, &childproc.Options{Stdio: []any{childproc.Ignore, childproc.Pipe, childproc.Ignore, childproc.Pipe}})
	if r.Err != nil || len(r.Output) != 4 || string(r.Output[1]) != "one\n" || r.Output[2] != nil || string(r.Output[3]) != "three\n" {
		t.Fatalf("extra pipe: %q %v", r.Output, r.Err)
	}
	// An io.Writer entry gets the output instead of Output.
	var buf bytes.Buffer
	r = childproc.SpawnSync("echo", []string{"w"}, &childproc.Options{Stdio: []any{nil, &buf, nil}})
	if r.Err != nil || r.Output[1] != nil || buf.String() != "w\n" {
		t.Fatalf("writer: %q %q %v", r.Output, buf.String(), r.Err)
	}
}

// Node: test-child-process-spawnsync-shell, -spawnsync-env; Argv0 and Cwd.
func TestSpawnSyncOptions(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	want, _ := filepath.EvalSymlinks(dir)
	r := childproc.SpawnSync("echo $0 $CHILDPROC_Y; pwd -P", nil, &childproc.Options{Shell: "/bin/sh", Argv0: "zero", Cwd: dir, Env: []string{"CHILDPROC_Y=why"}})
	if r.Err != nil || string(r.Stdout) != "zero why\n"+want+"\n" {
		t.Fatalf("%q %v", r.Stdout, r.Err)
	}
	r = childproc.SpawnSync("sh", []string{"-c", "echo $0"}, &childproc.Options{Argv0: "a0"})
	if string(r.Stdout) != "a0\n" {
		t.Fatalf("argv0: %q", r.Stdout)
	}
	r = childproc.SpawnSync("pwd", nil, &childproc.Options{Cwd: filepath.Join(dir, "missing")})
	if e := wantCode(t, r.Err, "ENOENT"); e.Path != filepath.Join(dir, "missing") {
		t.Fatalf("%#v", e)
	}
}

func TestExecSync(t *testing.T) {
	t.Parallel()
	out, err := childproc.ExecSync("echo hello", nil)
	if err != nil || string(out) != "hello\n" {
		t.Fatalf("%q %v", out, err)
	}
	out, err = childproc.ExecSync("tr a-z A-Z", &childproc.Options{Input: []byte("abc")})
	if err != nil || string(out) != "ABC" {
		t.Fatalf("input: %q %v", out, err)
	}
}

// Node (§3.5): execSync('echo o; echo e >&2; exit 3') throws "Command
// failed: <cmd>\n<stderr>" with status 3 and the output.
func TestExecSyncErrors(t *testing.T) {
	t.Parallel()
	quiet := []any{childproc.Pipe, childproc.Pipe, childproc.Pipe} // not nil: keeps stderr out of the test log
	cmd := "echo o; echo e >&2; exit 3"
	out, err := childproc.ExecSync(cmd, &childproc.Options{Stdio: quiet})
	e := asError(t, err)
	if e.ExitCode != 3 || e.Signal != "" || e.Code != "" || e.Cmd != cmd || string(e.Stdout) != "o\n" || string(e.Stderr) != "e\n" || string(out) != "o\n" {
		t.Fatalf("%#v", e)
	}
	if !strings.HasPrefix(e.Error(), "Command failed: "+cmd) || !strings.HasSuffix(e.Error(), "\ne") {
		t.Fatalf("message %q", e.Error())
	}
	// Timeout: ETIMEDOUT with the signal; message "spawnSync /bin/sh ETIMEDOUT".
	_, err = childproc.ExecSync("exec sleep 60", &childproc.Options{Timeout: 100 * time.Millisecond, Stdio: quiet})
	e = wantCode(t, err, childproc.CodeTimedOut)
	if e.Signal != "SIGTERM" || e.Error() != "spawnSync "+childproc.DefaultShell+" ETIMEDOUT" {
		t.Fatalf("%#v %q", e, e.Error())
	}
	// MaxBuffer: ENOBUFS.
	_, err = childproc.ExecSync("head -c 100 /dev/zero; exec sleep 60", &childproc.Options{MaxBuffer: 10, Stdio: quiet})
	e = wantCode(t, err, childproc.CodeNoBufs)
	if len(e.Stdout) != 10 || e.Signal != "SIGTERM" {
		t.Fatalf("%#v", e)
	}
	// A missing shell.
	_, err = childproc.ExecSync("echo", &childproc.Options{Shell: "/nonexistent/sh"})
	if e := wantCode(t, err, "ENOENT"); e.Syscall != "spawnSync /nonexistent/sh" {
		t.Fatalf("%#v", e)
	}
}

func TestExecFileSync(t *testing.T) {
	t.Parallel()
	out, err := childproc.ExecFileSync("printf", []string{"%s-%s", "a b", "$c"}, nil)
	if err != nil || string(out) != "a b-$c" {
		t.Fatalf("%q %v", out, err)
	}
	// Node (§3.5): execFileSync('sh', ['-c', 'kill -TERM $$']) throws
	// "Command failed: sh -c kill -TERM $$" with signal SIGTERM.
	out, err = childproc.ExecFileSync("sh", []string{"-c", "echo partial; kill -TERM $$"}, nil)
	e := asError(t, err)
	if e.Signal != "SIGTERM" || e.ExitCode != -1 || e.Killed || string(e.Stdout) != "partial\n" || string(out) != "partial\n" {
		t.Fatalf("%#v", e)
	}
	if !strings.HasPrefix(e.Error(), "Command failed: sh -c echo partial; kill -TERM $$") {
		t.Fatalf("message %q", e.Error())
	}
	// A non-zero exit.
	_, err = childproc.ExecFileSync("sh", []string{"-c", "exit 9"}, nil)
	if e := asError(t, err); e.ExitCode != 9 || e.Cmd != "sh -c exit 9" {
		t.Fatalf("%#v", e)
	}
	// ENOENT, EACCES.
	_, err = childproc.ExecFileSync("childproc-nope", nil, nil)
	if e := wantCode(t, err, "ENOENT"); e.Syscall != "spawnSync childproc-nope" || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("%#v", e)
	}
	_, err = childproc.ExecFileSync(t.TempDir(), nil, nil)
	wantCode(t, err, "EACCES")
	// Argv0 is honoured (Node's execFileSync passes it on).
	out, err = childproc.ExecFileSync("sh", []string{"-c", "echo $0"}, &childproc.Options{Argv0: "named"})
	if err != nil || string(out) != "named\n" {
		t.Fatalf("%q %v", out, err)
	}
	// Timeout with SIGKILL.
	_, err = childproc.ExecFileSync("sleep", []string{"60"}, &childproc.Options{Timeout: 100 * time.Millisecond, KillSignal: syscall.SIGKILL})
	if e := wantCode(t, err, childproc.CodeTimedOut); e.Signal != "SIGKILL" {
		t.Fatalf("%#v", e)
	}
}

// execSyncHelperEnv makes TestExecSyncStderrHelper act instead of skip.
const execSyncHelperEnv = "CHILDPROC_TEST_EXECSYNC_HELPER"

// TestExecSyncStderrHelper is not a test: run by TestExecSyncEchoesStderr
// in a copy of the test binary, it calls ExecSync and ExecFileSync so that
// their writes to the process's stderr can be seen.
func TestExecSyncStderrHelper(t *testing.T) {
	mode := os.Getenv(execSyncHelperEnv)
	if mode == "" {
		t.Skip("runs only as a helper process")
	}
	var out []byte
	var err error
	switch mode {
	case "unset":
		out, err = childproc.ExecSync("echo out; echo to-stderr >&2; exit 3", nil)
	case "file":
		out, err = childproc.ExecFileSync("sh", []string{"-c", "echo out; echo to-stderr >&2"}, nil)
	case "piped":
		out, err = childproc.ExecSync("echo out; echo to-stderr >&2", &childproc.Options{Stdio: []any{childproc.Pipe, childproc.Pipe, childproc.Pipe}})
	}
	os.Stdout.WriteString("returned " + strings.TrimSpace(string(out)) + "\n")
	if e, ok := err.(*childproc.Error); ok {
		os.Stdout.WriteString("stderr in error " + strings.TrimSpace(string(e.Stderr)) + "\n")
	}
	os.Exit(0)
}

// Node: with options.stdio unset, execSync and execFileSync first write
// the child's stderr to the parent's stderr (and still return it in the
// error); with stdio set they do not.
func TestExecSyncEchoesStderr(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ mode, stdout, stderr string }{
		{"unset", "returned out\nstderr in error to-stderr\n", "to-stderr\n"},
		{"file", "returned out\n", "to-stderr\n"},
		{"piped", "returned out\n", ""},
	} {
		r := childproc.SpawnSync(os.Args[0], []string{"-test.run=^TestExecSyncStderrHelper$", "-test.v=false"},
			&childproc.Options{Env: append(os.Environ(), execSyncHelperEnv+"="+tc.mode)})
		if r.Err != nil || r.Status != 0 {
			t.Fatalf("%s: helper: %v status %d stderr %q", tc.mode, r.Err, r.Status, r.Stderr)
		}
		if string(r.Stdout) != tc.stdout || string(r.Stderr) != tc.stderr {
			t.Errorf("%s: stdout %q stderr %q, want %q %q", tc.mode, r.Stdout, r.Stderr, tc.stdout, tc.stderr)
		}
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
