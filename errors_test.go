//go:build unix

package childproc_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/childproc/childproc"
)

// The shapes of childproc's errors, checked against what the node on this
// machine reports for the same failures (Node notes §3).

// nodeErrors runs the same failures in Node and reports the fields of each
// error, by case name.
const nodeErrors = `
const cp = require('child_process');
const pick = (e) => e && ({code: e.code, errno: e.errno, syscall: e.syscall, path: e.path, spawnargs: e.spawnargs,
  killed: e.killed, signal: e.signal, cmd: e.cmd, status: e.status, message: e.message});
const out = {};
(async () => {
  await new Promise(r => { const c = cp.spawn('childproc-nope', ['a', 'b']); c.on('error', e => { out.enoent = pick(e); }); c.on('close', () => r()); });
  await new Promise(r => { const c = cp.spawn(process.argv[1]); c.on('error', e => { out.eacces = pick(e); }); c.on('close', () => r()); });
  await new Promise(r => cp.execFile('sh', ['-c', 'echo o; echo e >&2; exit 3'], (e) => { out.exit3 = pick(e); r(); }));
  await new Promise(r => cp.execFile('childproc-nope', ['x'], (e) => { out.execFileENOENT = pick(e); r(); }));
  await new Promise(r => cp.execFile('sleep', ['30'], {timeout: 100}, (e) => { out.timeout = pick(e); r(); }));
  await new Promise(r => cp.execFile('sleep', ['30'], {timeout: 100, killSignal: 'SIGKILL'}, (e) => { out.timeoutKill = pick(e); r(); }));
  await new Promise(r => cp.exec('head -c 20 /dev/zero; exec sleep 30', {maxBuffer: 10}, (e, so) => { out.maxbuf = pick(e); r(); }));
  await new Promise(r => cp.exec('head -c 20 /dev/zero >&2; exec sleep 30', {maxBuffer: 10}, (e, so) => { out.maxbufErr = pick(e); r(); }));
  { const ac = new AbortController(); cp.execFile('sleep', ['30'], {signal: ac.signal}, (e) => { out.abort = pick(e); }); ac.abort(); }
  await new Promise(r => setTimeout(r, 200));
  { const s = cp.spawnSync('sleep', ['30'], {timeout: 100}); out.syncTimeout = pick(s.error); out.syncTimeout.signal = s.signal; }
  { const s = cp.spawnSync('childproc-nope', ['a']); out.syncENOENT = pick(s.error); out.syncENOENT.status = s.status; }
  try { cp.execFileSync('sh', ['-c', 'kill -TERM $$']); } catch (e) { out.execFileSyncSignal = pick(e); }
  try { cp.execSync('echo o; echo e >&2; exit 3', {stdio: 'pipe'}); } catch (e) { out.execSync3 = pick(e); }
  try { cp.execSync('exec sleep 30', {timeout: 100}); } catch (e) { out.execSyncTimeout = pick(e); }
  console.log(JSON.stringify(out));
})();
`

// nodeErr holds the fields Node sets; null fields are nil.
type nodeErr struct {
	Code      any      `json:"code"`
	Errno     *int     `json:"errno"`
	Syscall   string   `json:"syscall"`
	Path      string   `json:"path"`
	Spawnargs []string `json:"spawnargs"`
	Killed    *bool    `json:"killed"`
	Signal    *string  `json:"signal"`
	Cmd       string   `json:"cmd"`
	Status    *int     `json:"status"`
	Message   string   `json:"message"`
}

// nodeSignal is Node's signal as childproc spells it ("" for null).
func (n nodeErr) signal() string {
	if n.Signal == nil {
		return ""
	}
	return *n.Signal
}

// exitCode is Node's code (exec) or status (sync) as childproc spells it.
func (n nodeErr) exitCode() int {
	if f, ok := n.Code.(float64); ok {
		return int(f)
	}
	if n.Status != nil {
		return *n.Status
	}
	return -1
}

func TestErrorsMatchNode(t *testing.T) {
	t.Parallel()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("no node")
	}
	dir := t.TempDir()
	plain := writeFile(t, dir, "plain", "not a program\n", 0o644)
	raw, err := exec.Command(node, "-e", nodeErrors, plain).Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	var want map[string]nodeErr
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatalf("node said %s: %v", raw, err)
	}
	ctx := t.Context()

	// sameSpawnError compares a failure to start (Node's 'error' event).
	sameSpawnError := func(name string, err error, sync bool) {
		t.Helper()
		n, ok := want[name]
		if !ok {
			t.Fatalf("node has no %s", name)
		}
		e := asError(t, err)
		if e.Code != n.Code || n.Errno == nil || -int(e.Errno) != *n.Errno || e.Syscall != n.Syscall || e.Path != n.Path ||
			!slices.Equal(e.Spawnargs, n.Spawnargs) || e.Error() != n.Message {
			t.Errorf("%s:\n  go   %+v %q\n  node %+v", name, *e, e.Error(), n)
		}
		if sync && n.Status == nil && e.ExitCode != -1 {
			t.Errorf("%s: ExitCode %d for Node's null status", name, e.ExitCode)
		}
	}
	// sameFailure compares exec's "Command failed" errors.
	sameFailure := func(name string, e *childproc.Error, message string) {
		t.Helper()
		n := want[name]
		if e.ExitCode != n.exitCode() || e.Signal != n.signal() || (n.Killed != nil && e.Killed != *n.Killed) || (n.Cmd != "" && e.Cmd != n.Cmd) {
			t.Errorf("%s:\n  go   %+v\n  node %+v", name, *e, n)
		}
		// childproc says how the command failed after the command line;
		// Node's message has the command line and then stderr.
		nodeHead, nodeStderr, _ := strings.Cut(n.Message, "\n")
		if !strings.HasPrefix(message, nodeHead) || !strings.Contains(message, strings.TrimRight(nodeStderr, "\n")) {
			t.Errorf("%s: message %q, node's %q", name, message, n.Message)
		}
	}

	_, err = childproc.Spawn(ctx, "childproc-nope", []string{"a", "b"}, nil)
	sameSpawnError("enoent", err, false)
	_, err = childproc.Spawn(ctx, plain, nil, nil)
	sameSpawnError("eacces", err, false)
	r := childproc.SpawnSync("childproc-nope", []string{"a"}, nil)
	sameSpawnError("syncENOENT", r.Err, true)

	_, err = childproc.ExecFile(ctx, "childproc-nope", []string{"x"}, nil)
	sameSpawnError("execFileENOENT", err, false)
	if e := asError(t, err); e.Cmd != want["execFileENOENT"].Cmd {
		t.Errorf("execFile ENOENT: Cmd %q, node's %q", e.Cmd, want["execFileENOENT"].Cmd)
	}

	c, err := childproc.ExecFile(ctx, "sh", []string{"-c", "echo o; echo e >&2; exit 3"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = output(t, c)
	sameFailure("exit3", asError(t, err), err.Error())

	for name, sig := range map[string]os.Signal{"timeout": nil, "timeoutKill": syscall.SIGKILL} {
		c, err = childproc.ExecFile(ctx, "sleep", []string{"30"}, &childproc.Options{Timeout: 100 * time.Millisecond, KillSignal: sig})
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = output(t, c)
		sameFailure(name, asError(t, err), err.Error())
	}

	for name, cmd := range map[string]string{"maxbuf": "head -c 20 /dev/zero; exec sleep 30", "maxbufErr": "head -c 20 /dev/zero >&2; exec sleep 30"} {
		c, err = childproc.Exec(ctx, cmd, &childproc.Options{MaxBuffer: 10})
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = output(t, c)
		e, n := asError(t, err), want[name]
		if e.Code != n.Code || e.Cmd != n.Cmd || e.Error() != n.Message {
			t.Errorf("%s:\n  go   %+v %q\n  node %+v", name, *e, e.Error(), n)
		}
	}

	actx, cancel := context.WithCancel(ctx)
	c, err = childproc.ExecFile(actx, "sleep", []string{"30"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	_, _, err = output(t, c)
	// Node's message, then the cause, as Go errors read.
	if e, n := asError(t, err), want["abort"]; e.Code != n.Code || e.Error() != n.Message+": context canceled" {
		t.Errorf("abort:\n  go   %+v %q\n  node %+v", *e, e.Error(), n)
	}

	r = childproc.SpawnSync("sleep", []string{"30"}, &childproc.Options{Timeout: 100 * time.Millisecond})
	sameSpawnError("syncTimeout", r.Err, true)
	if r.Signal != want["syncTimeout"].signal() {
		t.Errorf("sync timeout: signal %q, node's %q", r.Signal, want["syncTimeout"].signal())
	}

	_, err = childproc.ExecFileSync("sh", []string{"-c", "kill -TERM $$"}, nil)
	sameFailure("execFileSyncSignal", asError(t, err), err.Error())
	_, err = childproc.ExecSync("echo o; echo e >&2; exit 3", &childproc.Options{Stdio: []any{childproc.Pipe, childproc.Pipe, childproc.Pipe}})
	sameFailure("execSync3", asError(t, err), err.Error())
	_, err = childproc.ExecSync("exec sleep 30", &childproc.Options{Timeout: 100 * time.Millisecond})
	if e, n := asError(t, err), want["execSyncTimeout"]; e.Code != n.Code || e.Error() != n.Message || e.Signal != n.signal() {
		t.Errorf("execSync timeout:\n  go   %+v %q\n  node %+v", *e, e.Error(), n)
	}
}

// *Error is reachable through wrapping, and its causes through it.
func TestErrorWrapping(t *testing.T) {
	t.Parallel()
	_, err := childproc.Spawn(t.Context(), "childproc-nope", nil, nil)
	wrapped := fmt.Errorf("starting the helper: %w", err)
	var e *childproc.Error
	if !errors.As(wrapped, &e) || e.Code != "ENOENT" {
		t.Fatalf("errors.As through a wrap: %v", wrapped)
	}
	if !errors.Is(wrapped, fs.ErrNotExist) || !errors.Is(wrapped, syscall.ENOENT) || errors.Is(wrapped, fs.ErrPermission) {
		t.Fatal("errors.Is through a wrap")
	}
	if errors.Unwrap(err) != syscall.ENOENT {
		t.Fatalf("Unwrap: %v", errors.Unwrap(err))
	}
	// A plain non-zero exit has no cause and no code, as in Node.
	c, err := childproc.Spawn(t.Context(), "false", nil, quietOpts())
	if err != nil {
		t.Fatal(err)
	}
	err = waitFor(t, c)
	if e := asError(t, err); e.Code != "" || e.Err != nil || errors.Unwrap(err) != nil || e.ExitCode != 1 {
		t.Fatalf("exit 1: %#v", e)
	}
	// Bad input carries no process fields.
	_, err = childproc.Spawn(t.Context(), "", nil, nil)
	if e := asError(t, err); e.Syscall != "" || e.Path != "" || e.Errno != 0 || e.ExitCode != -1 || !strings.Contains(e.Error(), "cannot be empty") {
		t.Fatalf("empty: %#v", e)
	}
	// Spawnargs leave out argv[0], even when Argv0 sets it.
	_, err = childproc.Spawn(t.Context(), "childproc-nope", []string{"x"}, &childproc.Options{Argv0: "zero"})
	if e := asError(t, err); !slices.Equal(e.Spawnargs, []string{"x"}) {
		t.Fatalf("Spawnargs %q", e.Spawnargs)
	}
	// The error of a successful child's Wait is a nil error interface, not
	// a nil *Error.
	c, err = childproc.Spawn(t.Context(), "true", nil, quietOpts())
	if err != nil {
		t.Fatal(err)
	}
	if err := waitFor(t, c); err != nil {
		t.Fatalf("true: %#v", err)
	}
	if _, _, err := c.Output(); err != nil {
		t.Fatalf("Output: %#v", err)
	}
	if r := childproc.SpawnSync("true", nil, nil); r.Err != nil {
		t.Fatalf("SpawnSync: %#v", r.Err)
	}
	if out, err := childproc.ExecSync("true", nil); err != nil || out == nil {
		t.Fatalf("ExecSync: %q %#v", out, err)
	}
}

// An abort's message gives its cause after Node's words, wherever the
// abort is noticed: before anything starts, or while the child runs.
func TestAbortMessageNamesCause(t *testing.T) {
	t.Parallel()
	quiet := &childproc.Options{Stdio: []any{childproc.Ignore, childproc.Ignore, childproc.Ignore}}
	expired, cancel := context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
	defer cancel()
	cause := errors.New("shutting down")
	stopped, stop := context.WithCancelCause(t.Context())
	stop(cause)
	for _, tc := range []struct {
		name string
		ctx  context.Context
		want error
		msg  string
	}{
		{"deadline", expired, context.DeadlineExceeded, "The operation was aborted: context deadline exceeded"},
		{"cause", stopped, cause, "The operation was aborted: shutting down"},
	} {
		for _, start := range []func() (*childproc.Child, error){
			func() (*childproc.Child, error) { return childproc.Spawn(tc.ctx, "true", nil, quiet) },
			func() (*childproc.Child, error) { return childproc.Exec(tc.ctx, "true", nil) },
			func() (*childproc.Child, error) { return childproc.ExecFile(tc.ctx, "true", nil, nil) },
			func() (*childproc.Child, error) { return childproc.Fork(tc.ctx, "true", nil, nil) },
		} {
			c, err := start()
			if c != nil {
				t.Fatalf("%s: a child started", tc.name)
			}
			if e := wantCode(t, err, childproc.CodeAbort); e.Error() != tc.msg || !errors.Is(err, tc.want) {
				t.Errorf("%s before the start: %q (cause %v)", tc.name, e.Error(), e.Err)
			}
		}
	}
	// A deadline that ends while the child runs.
	for _, start := range []func(context.Context) (*childproc.Child, error){
		func(ctx context.Context) (*childproc.Child, error) {
			return childproc.Spawn(ctx, "sleep", []string{"30"}, quiet)
		},
		func(ctx context.Context) (*childproc.Child, error) {
			return childproc.ExecFile(ctx, "sleep", []string{"30"}, nil)
		},
	} {
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		c, err := start(ctx)
		if err != nil {
			t.Fatal(err)
		}
		err = waitFor(t, c)
		e := wantCode(t, err, childproc.CodeAbort)
		if e.Error() != "The operation was aborted: context deadline exceeded" || !errors.Is(err, context.DeadlineExceeded) || !e.Killed || e.Signal != "SIGTERM" {
			t.Errorf("deadline while running: %q %#v", e.Error(), e)
		}
	}
}

// A timed-out child's message says how it then ended: by the signal, or
// with the status it chose on catching it.
func TestTimedOutMessage(t *testing.T) {
	t.Parallel()
	quiet := []any{childproc.Ignore, childproc.Ignore, childproc.Ignore}
	for script, want := range map[string]string{
		"exec sleep 30":                      "Command failed: sh -c exec sleep 30: timed out, killed by SIGTERM",
		"trap 'exit 7' TERM; sleep 1 & wait": "Command failed: sh -c trap 'exit 7' TERM; sleep 1 & wait: timed out, exit status 7",
	} {
		c, err := childproc.Spawn(t.Context(), "sh", []string{"-c", script}, &childproc.Options{Stdio: quiet, Timeout: 200 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		err = waitFor(t, c)
		if e := asError(t, err); !e.TimedOut || e.Error() != want {
			t.Errorf("%q: %q, want %q", script, e.Error(), want)
		}
	}
}

// errors.Is finds ErrTimeout in the error of a child that Timeout stopped
// and ErrMaxBuffer in that of one that passed MaxBuffer, in the async and
// the sync forms alike, and neither in a plain failure.
func TestErrorSentinels(t *testing.T) {
	run := func(script string, opts *childproc.Options) (async, sync error) {
		c, err := childproc.Exec(context.Background(), script, opts)
		if err != nil {
			t.Fatal(err)
		}
		_, _, async = c.Output()
		_, sync = childproc.ExecSync(script, opts)
		return async, sync
	}
	for _, tc := range []struct {
		name   string
		script string
		opts   childproc.Options
		want   error
	}{
		{name: "Timeout", script: "sleep 30", opts: childproc.Options{Timeout: 200 * time.Millisecond}, want: childproc.ErrTimeout},
		{name: "MaxBuffer", script: "echo 0123456789abcdef", opts: childproc.Options{MaxBuffer: 4}, want: childproc.ErrMaxBuffer},
		{name: "exit 3", script: "exit 3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			async, sync := run(tc.script, &tc.opts)
			for form, err := range map[string]error{"Exec": async, "ExecSync": sync} {
				asError(t, err)
				for _, sentinel := range []error{childproc.ErrTimeout, childproc.ErrMaxBuffer} {
					if got, want := errors.Is(err, sentinel), sentinel == tc.want; got != want {
						t.Errorf("%s: errors.Is(%v, %v) = %v, want %v", form, err, sentinel, got, want)
					}
				}
			}
		})
	}
}
