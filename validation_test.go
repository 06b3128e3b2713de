//go:build linux

package childproc_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/childproc/childproc"
)

// The entry points a validation case can run through.
const (
	vSpawn        = "Spawn"
	vExec         = "Exec"
	vExecFile     = "ExecFile"
	vSpawnSync    = "SpawnSync"
	vExecSync     = "ExecSync"
	vExecFileSync = "ExecFileSync"
	vFork         = "Fork"
)

var (
	vAll      = []string{vSpawn, vExec, vExecFile, vSpawnSync, vExecSync, vExecFileSync, vFork}
	vWithArgs = []string{vSpawn, vExecFile, vSpawnSync, vExecFileSync, vFork} // those that take a file and args, not a command line
	vStdio    = []string{vSpawn, vSpawnSync, vExecSync, vExecFileSync, vFork} // those that read Options.Stdio
	vAsync    = []string{vSpawn, vExec, vExecFile, vFork}                     // those that take a context
	vSync     = []string{vSpawnSync, vExecSync, vExecFileSync}
)

// vCase is one bad input. file and args are the program (the command
// line for Exec and ExecSync is file and args joined by spaces).
type vCase struct {
	name   string
	file   string
	args   []string
	opts   *childproc.Options
	nilCtx bool
	code   string
	on     []string
	path   string // the Path the error must name, if any
}

// vRun runs one case through the entry point named entry (of entries,
// the one table of entry points), turning a panic into an error, and
// returns the child if one was (wrongly) started.
func vRun(entry string, vc vCase) (c *childproc.Child, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	ctx := context.Background()
	if vc.nilCtx {
		ctx = nil
	}
	// Copy the options: the entry points must not depend on it.
	var opts *childproc.Options
	if vc.opts != nil {
		o := *vc.opts
		opts = &o
	}
	c, _, err = entryNamed(entry).run(ctx, vc.file, vc.args, opts)
	return c, err
}

// vArgMax is the system's limit on the bytes of argv and envp together.
func vArgMax(t *testing.T) int {
	out, err := exec.Command("getconf", "ARG_MAX").Output()
	if err != nil {
		t.Skipf("getconf ARG_MAX: %v", err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil || n <= 0 {
		t.Skipf("ARG_MAX %q", out)
	}
	return n
}

func vCases(t *testing.T, dir string) []vCase {
	plain := writeFile(t, dir, "plain", "#!/bin/sh\ntouch "+dir+"/ran\n", 0o644)
	missing := filepath.Join(dir, "missing")
	neg := -1
	o := func(f func(o *childproc.Options)) *childproc.Options {
		opts := &childproc.Options{}
		f(opts)
		return opts
	}
	// Many arguments of 1000 bytes, together past ARG_MAX.
	n := vArgMax(t)/1000 + 100
	many := make([]string, n)
	for i := range many {
		many[i] = strings.Repeat("m", 999)
	}
	return []vCase{
		{name: "empty command", file: "", code: childproc.CodeInvalidArgValue, on: vAll},
		{name: "NUL in name", file: "ec\x00ho", code: childproc.CodeInvalidArgValue, on: vAll},
		{name: "NUL in args", file: "echo", args: []string{"ok", "a\x00b"}, code: childproc.CodeInvalidArgValue, on: vWithArgs},
		{name: "NUL in env", file: "true", opts: o(func(o *childproc.Options) { o.Env = []string{"A=b\x00c"} }), code: childproc.CodeInvalidArgValue, on: vAll},
		{name: "NUL in env key", file: "true", opts: o(func(o *childproc.Options) { o.Env = []string{"A\x00B=c"} }), code: childproc.CodeInvalidArgValue, on: vAll},
		{name: "NUL in cwd", file: "true", opts: o(func(o *childproc.Options) { o.Cwd = dir + "\x00x" }), code: childproc.CodeInvalidArgValue, on: vAll},
		{name: "NUL in argv0", file: "true", opts: o(func(o *childproc.Options) { o.Argv0 = "a\x00b" }), code: childproc.CodeInvalidArgValue, on: vAll},
		{name: "NUL in shell", file: "true", opts: o(func(o *childproc.Options) { o.Shell = "/bin/sh\x00" }), code: childproc.CodeInvalidArgValue, on: vAll},
		{name: "NUL in execPath", file: "true", opts: o(func(o *childproc.Options) { o.ExecPath = "no\x00de" }), code: childproc.CodeInvalidArgValue, on: vAll},
		{name: "NUL in execArgv", file: "true", opts: o(func(o *childproc.Options) { o.ExecArgv = []string{"--x\x00"} }), code: childproc.CodeInvalidArgValue, on: vAll},
		{name: "env entry without =", file: "true", opts: o(func(o *childproc.Options) { o.Env = []string{"PATH=/usr/bin:/bin", "NOEQUALS"} }), code: childproc.CodeInvalidArgValue, on: vAll},
		{name: "env entry empty", file: "true", opts: o(func(o *childproc.Options) { o.Env = []string{""} }), code: childproc.CodeInvalidArgValue, on: vAll},
		{name: "missing cwd", file: "true", opts: o(func(o *childproc.Options) { o.Cwd = missing }), code: "ENOENT", on: vAll, path: missing},
		{name: "cwd is a file", file: "true", opts: o(func(o *childproc.Options) { o.Cwd = plain }), code: "ENOTDIR", on: vAll, path: plain},
		{name: "non-executable file", file: plain, code: "EACCES", on: vWithArgs, path: plain},
		{name: "directory", file: dir, code: "EACCES", on: vWithArgs, path: dir},
		{name: "missing file", file: missing, code: "ENOENT", on: vWithArgs, path: missing},
		{name: "negative Timeout", file: "true", opts: o(func(o *childproc.Options) { o.Timeout = -time.Second }), code: childproc.CodeOutOfRange, on: vAll},
		{name: "negative MaxBuffer", file: "true", opts: o(func(o *childproc.Options) { o.MaxBuffer = -1 }), code: childproc.CodeOutOfRange, on: vAll},
		{name: "negative WaitDelay", file: "true", opts: o(func(o *childproc.Options) { o.WaitDelay = -time.Nanosecond }), code: childproc.CodeOutOfRange, on: vAll},
		{name: "negative UID", file: "true", opts: o(func(o *childproc.Options) { o.UID = &neg }), code: childproc.CodeOutOfRange, on: vAll},
		{name: "negative GID", file: "true", opts: o(func(o *childproc.Options) { o.GID = &neg }), code: childproc.CodeOutOfRange, on: vAll},
		{name: "unknown KillSignal", file: "true", opts: o(func(o *childproc.Options) { o.KillSignal = syscall.Signal(99) }), code: childproc.CodeUnknownSignal, on: vAll},
		{name: "stdio string", file: "true", opts: o(func(o *childproc.Options) { o.Stdio = []any{"pipe", nil, nil} }), code: childproc.CodeInvalidArgValue, on: vStdio},
		{name: "stdio unknown mode", file: "true", opts: o(func(o *childproc.Options) { o.Stdio = []any{nil, childproc.StdioMode("bogus"), nil} }), code: childproc.CodeInvalidArgValue, on: vStdio},
		{name: "stdio func", file: "true", opts: o(func(o *childproc.Options) { o.Stdio = []any{nil, func() {}, nil} }), code: childproc.CodeInvalidArgValue, on: vStdio},
		{name: "stdio struct", file: "true", opts: o(func(o *childproc.Options) { o.Stdio = []any{nil, nil, struct{ X int }{1}} }), code: childproc.CodeInvalidArgValue, on: vStdio},
		{name: "stdio struct at fd 3", file: "true", opts: o(func(o *childproc.Options) { o.Stdio = []any{nil, nil, nil, struct{}{}} }), code: childproc.CodeInvalidArgValue, on: vStdio},
		{name: "stdio writer-only at fd 0", file: "true", opts: o(func(o *childproc.Options) { o.Stdio = []any{io.Discard, nil, nil} }), code: childproc.CodeInvalidArgValue, on: vStdio},
		{name: "stdio reader-only at fd 1", file: "true", opts: o(func(o *childproc.Options) { o.Stdio = []any{nil, strings.NewReader("x"), nil} }), code: childproc.CodeInvalidArgValue, on: vStdio},
		{name: "two IPC entries", file: "true", opts: o(func(o *childproc.Options) {
			o.Stdio = []any{nil, nil, nil, childproc.IPC, childproc.IPC}
		}), code: childproc.CodeIPCOnePipe, on: []string{vSpawn, vFork}},
		{name: "IPC in a sync form", file: "true", opts: o(func(o *childproc.Options) {
			o.Stdio = []any{nil, nil, nil, childproc.IPC}
		}), code: childproc.CodeIPCSyncFork, on: vSync},
		{name: "bad fd number", file: "true", opts: o(func(o *childproc.Options) { o.Stdio = []any{nil, 987, nil} }), code: "EBADF", on: vStdio},
		{name: "nil context", file: "true", nilCtx: true, code: childproc.CodeInvalidArgType, on: vAsync},
		{name: "bad Serialization", file: "true", opts: o(func(o *childproc.Options) { o.Serialization = "xml" }), code: childproc.CodeInvalidArgValue, on: vAll},
		{name: "one 200 KiB argument", file: "echo", args: []string{strings.Repeat("x", 200*1024)}, code: "E2BIG", on: vAll},
		{name: "arguments past ARG_MAX", file: "echo", args: many, code: "E2BIG", on: vAll},
	}
}

// Bad input is an *Error with Node's code from every entry point it
// applies to, never a panic, and leaves no process and no fd behind.
// Not parallel: it counts this process's fds and children.
func TestValidation(t *testing.T) {
	if _, err := os.Stat("/proc/self/fd/987"); err == nil {
		t.Skip("fd 987 is open in the test process")
	}
	dir := t.TempDir()
	for _, vc := range vCases(t, dir) {
		for _, entry := range vc.on {
			t.Run(vc.name+"/"+entry, func(t *testing.T) {
				fdsBefore, kidsBefore := openFds(t), ourChildren()
				c, err := vRun(entry, vc)
				if c != nil {
					c.Kill(syscall.SIGKILL)
					waitFor(t, c)
					t.Fatalf("a child was started (error %v)", err)
				}
				if err != nil && strings.HasPrefix(err.Error(), "panic: ") {
					t.Fatal(err)
				}
				e := wantCode(t, err, vc.code)
				if e.Error() == "" {
					t.Error("empty message")
				}
				if vc.path != "" && e.Path != vc.path {
					t.Errorf("Path %q, want %q (%v)", e.Path, vc.path, err)
				}
				if kids := newChildren(kidsBefore, ourChildren()); len(kids) > 0 {
					t.Errorf("processes appeared: %v", kids)
				}
				// An fd closed late by an earlier test's goroutine may
				// show up; a leak stays.
				var (
					left []string
					now  map[int]string
				)
				eventually(func() bool {
					now = openFds(t)
					left = newFds(fdsBefore, now)
					return len(left) == 0 && len(now) <= len(fdsBefore)
				})
				if len(left) > 0 || len(now) > len(fdsBefore) {
					t.Errorf("fds left open: %v (%d before, %d after)", left, len(fdsBefore), len(now))
				}
			})
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "ran")); err == nil {
		t.Fatal("a refused program ran")
	}
}
