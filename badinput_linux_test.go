package childproc_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/childproc/childproc"
)

// Bad input, for every entry point it applies to: each must return an
// *Error with the right code, never panic, never start the program (the
// program is "touch <marker>", and the marker must not appear), and leave
// no child process and no fd behind.
//
// These tests are not parallel: they count this process's children and
// fds, which parallel tests would disturb.

// entry is one way of starting a child, reduced to its error.
type entry struct {
	name  string
	async bool // returns a *Child (Spawn, Exec, ExecFile, Fork)
	shell bool // runs a command line through a shell (Exec, ExecSync)
	run   func(ctx context.Context, file string, args []string, opts *childproc.Options) (*childproc.Child, *childproc.SyncResult, error)
}

var entries = []entry{
	{"Spawn", true, false, func(ctx context.Context, file string, args []string, opts *childproc.Options) (*childproc.Child, *childproc.SyncResult, error) {
		c, err := childproc.Spawn(ctx, file, args, opts)
		return c, nil, err
	}},
	{"Exec", true, true, func(ctx context.Context, file string, args []string, opts *childproc.Options) (*childproc.Child, *childproc.SyncResult, error) {
		c, err := childproc.Exec(ctx, commandOf(file, args), opts)
		return c, nil, err
	}},
	{"ExecFile", true, false, func(ctx context.Context, file string, args []string, opts *childproc.Options) (*childproc.Child, *childproc.SyncResult, error) {
		c, err := childproc.ExecFile(ctx, file, args, opts)
		return c, nil, err
	}},
	{"Fork", true, false, func(ctx context.Context, file string, args []string, opts *childproc.Options) (*childproc.Child, *childproc.SyncResult, error) {
		if opts != nil && opts.Stdio != nil && !slices.Contains(opts.Stdio, any(childproc.IPC)) {
			o := *opts
			o.Stdio = append(slices.Clip(o.Stdio), childproc.IPC)
			opts = &o
		}
		c, err := childproc.Fork(ctx, file, args, opts)
		return c, nil, err
	}},
	{"SpawnSync", false, false, func(_ context.Context, file string, args []string, opts *childproc.Options) (*childproc.Child, *childproc.SyncResult, error) {
		r := childproc.SpawnSync(file, args, opts)
		return nil, r, r.Err
	}},
	{"ExecSync", false, true, func(_ context.Context, file string, args []string, opts *childproc.Options) (*childproc.Child, *childproc.SyncResult, error) {
		_, err := childproc.ExecSync(commandOf(file, args), opts)
		return nil, nil, err
	}},
	{"ExecFileSync", false, false, func(_ context.Context, file string, args []string, opts *childproc.Options) (*childproc.Child, *childproc.SyncResult, error) {
		_, err := childproc.ExecFileSync(file, args, opts)
		return nil, nil, err
	}},
}

// entryNamed returns the entry point called name.
func entryNamed(name string) entry {
	for _, e := range entries {
		if e.name == name {
			return e
		}
	}
	panic("unknown entry point " + name)
}

// commandOf is the command line an Exec form runs for file and args.
func commandOf(file string, args []string) string {
	if len(args) == 0 {
		return file
	}
	return file + " " + strings.Join(args, " ")
}

// badCase is one bad input. file and args default to "touch <marker>".
type badCase struct {
	name     string
	code     string
	file     string
	args     []string
	argsSet  bool // args given (possibly empty)
	opts     func(env badEnv) *childproc.Options
	ctx      func() context.Context
	path     func(env badEnv) string // the Error's Path, when it must be checked
	only     []string                // the entry points it applies to; nil means all
	notShell bool                    // not for Exec and ExecSync, whose shell would start
}

// badEnv holds the files the cases refer to.
type badEnv struct {
	dir, marker, plain, subdir string
}

func withOpts(f func(o *childproc.Options)) func(badEnv) *childproc.Options {
	return func(badEnv) *childproc.Options {
		o := quietOpts()
		f(o)
		return o
	}
}

var (
	stdioForms = []string{"Spawn", "SpawnSync", "ExecSync", "ExecFileSync", "Fork"}
	syncForms  = []string{"SpawnSync", "ExecSync", "ExecFileSync"}
	asyncForms = []string{"Spawn", "Exec", "ExecFile", "Fork"}
)

func badCases() []badCase {
	neg := -1
	big := strings.Repeat("x", 200*1024)
	many := make([]string, 48)
	for i := range many {
		many[i] = strings.Repeat("y", 64*1024) // 3 MiB in all, past ARG_MAX (2 MiB here)
	}
	return []badCase{
		{name: "empty command", code: childproc.CodeInvalidArgValue, file: "", argsSet: true},
		{name: "NUL in name", code: childproc.CodeInvalidArgValue, file: "tou\x00ch"},
		{name: "NUL in args", code: childproc.CodeInvalidArgValue, args: []string{"a\x00b"}, argsSet: true},
		{name: "NUL in env value", code: childproc.CodeInvalidArgValue, opts: withOpts(func(o *childproc.Options) { o.Env = []string{"A=b\x00c"} })},
		{name: "NUL in env key", code: childproc.CodeInvalidArgValue, opts: withOpts(func(o *childproc.Options) { o.Env = []string{"A\x00B=c"} })},
		{name: "NUL in cwd", code: childproc.CodeInvalidArgValue, opts: withOpts(func(o *childproc.Options) { o.Cwd = "/tmp\x00x" })},
		{name: "NUL in argv0", code: childproc.CodeInvalidArgValue, opts: withOpts(func(o *childproc.Options) { o.Argv0 = "a\x00" })},
		{name: "NUL in shell", code: childproc.CodeInvalidArgValue, opts: withOpts(func(o *childproc.Options) { o.Shell = "/bin/sh\x00" })},
		{name: "NUL in execPath", code: childproc.CodeInvalidArgValue, opts: withOpts(func(o *childproc.Options) { o.ExecPath = "no\x00de" })},
		{name: "env entry without =", code: childproc.CodeInvalidArgValue, opts: withOpts(func(o *childproc.Options) { o.Env = []string{"PATH=/usr/bin:/bin", "NOEQUALS"} })},
		{name: "env entry with empty key", code: childproc.CodeInvalidArgValue, opts: withOpts(func(o *childproc.Options) { o.Env = []string{"=value"} })},
		{name: "missing cwd", code: "ENOENT",
			opts: func(e badEnv) *childproc.Options {
				o := quietOpts()
				o.Cwd = filepath.Join(e.dir, "missing")
				return o
			},
			path: func(e badEnv) string { return filepath.Join(e.dir, "missing") }},
		{name: "cwd is a file", code: "ENOTDIR",
			opts: func(e badEnv) *childproc.Options {
				o := quietOpts()
				o.Cwd = e.plain
				return o
			},
			path: func(e badEnv) string { return e.plain }},
		{name: "missing program", code: "ENOENT", file: "childproc-no-such-program", notShell: true,
			path: func(badEnv) string { return "childproc-no-such-program" }},
		{name: "missing program by path", code: "ENOENT", file: "/nonexistent/touch", notShell: true,
			path: func(badEnv) string { return "/nonexistent/touch" }},
		{name: "non-executable file", code: "EACCES", notShell: true},
		{name: "directory", code: "EACCES", notShell: true},
		{name: "missing shell", code: "ENOENT", only: []string{"Spawn", "Exec", "ExecFile", "SpawnSync", "ExecSync", "ExecFileSync"},
			opts: withOpts(func(o *childproc.Options) { o.Shell = "/nonexistent/sh" }), path: func(badEnv) string { return "/nonexistent/sh" }},
		{name: "non-executable shell", code: "EACCES", only: []string{"Spawn", "Exec", "ExecFile", "SpawnSync", "ExecSync", "ExecFileSync"},
			opts: func(e badEnv) *childproc.Options {
				o := quietOpts()
				o.Shell = e.plain
				return o
			},
			path: func(e badEnv) string { return e.plain }},
		{name: "negative Timeout", code: childproc.CodeOutOfRange, opts: withOpts(func(o *childproc.Options) { o.Timeout = -time.Second })},
		{name: "negative MaxBuffer", code: childproc.CodeOutOfRange, opts: withOpts(func(o *childproc.Options) { o.MaxBuffer = -1 })},
		{name: "negative WaitDelay", code: childproc.CodeOutOfRange, opts: withOpts(func(o *childproc.Options) { o.WaitDelay = -time.Nanosecond })},
		{name: "negative UID", code: childproc.CodeOutOfRange, opts: withOpts(func(o *childproc.Options) { o.UID = &neg })},
		{name: "negative GID", code: childproc.CodeOutOfRange, opts: withOpts(func(o *childproc.Options) { o.GID = &neg })},
		{name: "negative CPU limit", code: childproc.CodeOutOfRange, opts: withOpts(func(o *childproc.Options) { o.Limits = &childproc.Limits{CPUTime: -time.Second} })},
		{name: "unknown KillSignal number", code: childproc.CodeUnknownSignal, opts: withOpts(func(o *childproc.Options) { o.KillSignal = syscall.Signal(200) })},
		{name: "KillSignal 0", code: childproc.CodeUnknownSignal, opts: withOpts(func(o *childproc.Options) { o.KillSignal = syscall.Signal(0) })},
		{name: "KillSignal of another type", code: childproc.CodeUnknownSignal, opts: withOpts(func(o *childproc.Options) { o.KillSignal = fakeSignal{} })},
		{name: "bad Serialization", code: childproc.CodeInvalidArgValue, opts: withOpts(func(o *childproc.Options) { o.Serialization = "xml" })},
		{name: "stdio string", code: childproc.CodeInvalidArgValue, only: stdioForms,
			opts: withOpts(func(o *childproc.Options) { o.Stdio = []any{"pipe", nil, nil} })},
		{name: "stdio unknown mode", code: childproc.CodeInvalidArgValue, only: stdioForms,
			opts: withOpts(func(o *childproc.Options) { o.Stdio = []any{nil, childproc.StdioMode("bogus"), nil} })},
		{name: "stdio func", code: childproc.CodeInvalidArgValue, only: stdioForms,
			opts: withOpts(func(o *childproc.Options) { o.Stdio = []any{nil, func() {}, nil} })},
		{name: "stdio struct", code: childproc.CodeInvalidArgValue, only: stdioForms,
			opts: withOpts(func(o *childproc.Options) { o.Stdio = []any{nil, nil, struct{ A int }{1}} })},
		{name: "stdio float", code: childproc.CodeInvalidArgValue, only: stdioForms,
			opts: withOpts(func(o *childproc.Options) { o.Stdio = []any{1.5} })},
		{name: "stdio nil *os.File", code: childproc.CodeInvalidArgValue, only: stdioForms,
			opts: withOpts(func(o *childproc.Options) { o.Stdio = []any{(*os.File)(nil)} })},
		{name: "stdio closed *os.File", code: "EBADF", only: stdioForms,
			opts: withOpts(func(o *childproc.Options) { o.Stdio = []any{childproc.Ignore, closedFile(), childproc.Ignore} })},
		{name: "stdio Writer at 0", code: childproc.CodeInvalidArgValue, only: stdioForms,
			opts: withOpts(func(o *childproc.Options) { o.Stdio = []any{io.Discard, nil, nil} })},
		{name: "stdio Reader at 1", code: childproc.CodeInvalidArgValue, only: stdioForms,
			opts: withOpts(func(o *childproc.Options) { o.Stdio = []any{nil, strings.NewReader("x"), nil} })},
		{name: "stdio bad entry after a good pipe", code: childproc.CodeInvalidArgValue, only: stdioForms,
			opts: withOpts(func(o *childproc.Options) {
				o.Stdio = []any{childproc.Pipe, childproc.Pipe, childproc.Pipe, childproc.Pipe, io.Discard, "x"}
			})},
		{name: "two IPC entries", code: childproc.CodeIPCOnePipe, only: []string{"Spawn", "Fork"},
			opts: withOpts(func(o *childproc.Options) { o.Stdio = []any{nil, nil, nil, childproc.IPC, childproc.IPC} })},
		{name: "IPC in a sync form", code: childproc.CodeIPCSyncFork, only: syncForms,
			opts: withOpts(func(o *childproc.Options) { o.Stdio = []any{nil, nil, nil, childproc.IPC} })},
		{name: "Fork without IPC", code: childproc.CodeIPCRequired, only: []string{"ForkRaw"}},
		{name: "bad fd", code: "EBADF", only: stdioForms,
			opts: withOpts(func(o *childproc.Options) { o.Stdio = []any{childproc.Ignore, 987, childproc.Ignore} })},
		{name: "bad fd above 2", code: "EBADF", only: stdioForms,
			opts: withOpts(func(o *childproc.Options) {
				o.Stdio = []any{childproc.Pipe, childproc.Pipe, childproc.Pipe, childproc.Pipe, 987}
			})},
		{name: "nil context", code: childproc.CodeInvalidArgType, only: asyncForms, ctx: func() context.Context { return nil }},
		{name: "cancelled context", code: childproc.CodeAbort, only: asyncForms, ctx: func() context.Context {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx
		}},
		{name: "one argument too long", code: "E2BIG", args: []string{"childproc-marker-unused", big}, argsSet: true},
		{name: "arguments past ARG_MAX", code: "E2BIG", args: append([]string{"childproc-marker-unused"}, many...), argsSet: true},
		{name: "environment past ARG_MAX", code: "E2BIG", opts: withOpts(func(o *childproc.Options) { o.Env = append(os.Environ(), "BIG="+big) })},
	}
}

func TestBadInput(t *testing.T) {
	env := badEnv{dir: t.TempDir()}
	env.marker = filepath.Join(env.dir, "marker")
	env.plain = writeFile(t, env.dir, "plain", "#!/bin/sh\ntouch \"$0.ran\"\n", 0o644)
	env.subdir = filepath.Join(env.dir, "subdir")
	if err := os.Mkdir(env.subdir, 0o755); err != nil {
		t.Fatal(err)
	}
	// Warm up: the first child starts what childproc keeps for good.
	if out, err := childproc.ExecFileSync("true", nil, nil); err != nil {
		t.Fatal(out, err)
	}
	forkRaw := entry{"ForkRaw", true, false, func(ctx context.Context, file string, args []string, opts *childproc.Options) (*childproc.Child, *childproc.SyncResult, error) {
		c, err := childproc.Fork(ctx, file, args, opts)
		return c, nil, err
	}}
	all := append(slices.Clip(entries), forkRaw)
	ran := 0
	for _, bc := range badCases() {
		for _, ep := range all {
			if bc.only == nil && ep.name == "ForkRaw" || bc.only != nil && !slices.Contains(bc.only, ep.name) || bc.notShell && ep.shell {
				continue
			}
			ran++
			t.Run(bc.name+"/"+ep.name, func(t *testing.T) {
				file, args := "touch", []string{env.marker}
				if bc.file != "" || bc.name == "empty command" {
					file = bc.file
				}
				if bc.argsSet {
					args = bc.args
				}
				switch bc.name {
				case "non-executable file":
					file = env.plain
				case "directory":
					file = env.subdir
				}
				opts := quietOpts()
				if bc.opts != nil {
					opts = bc.opts(env)
				}
				if ep.name == "ForkRaw" {
					opts = &childproc.Options{Stdio: []any{childproc.Ignore, childproc.Ignore, childproc.Ignore}}
				}
				ctx := context.Background()
				if bc.ctx != nil {
					ctx = bc.ctx()
				}
				// A failure must not leave its marker to the next case.
				defer os.Remove(env.marker)
				defer os.Remove(env.plain + ".ran")
				fdsBefore, kidsBefore := openFds(t), ourChildren()
				var (
					c     *childproc.Child
					r     *childproc.SyncResult
					err   error
					stack string
				)
				start := time.Now()
				func() {
					defer func() {
						if p := recover(); p != nil {
							stack = fmt.Sprintf("%v\n%s", p, debug.Stack())
						}
					}()
					c, r, err = ep.run(ctx, file, args, opts)
				}()
				if stack != "" {
					t.Fatalf("panic: %s", stack)
				}
				if c != nil {
					c.Kill(syscall.SIGKILL)
					waitFor(t, c)
					os.Remove(env.marker)
					t.Fatalf("a child was started (error %v)", err)
				}
				e := wantCode(t, err, bc.code)
				if e.ExitCode != -1 || e.Signal != "" || e.Killed {
					t.Fatalf("error fields of a child that never ran: %#v", e)
				}
				if bc.path != nil {
					if want := bc.path(env); e.Path != want {
						t.Fatalf("Path %q, want %q", e.Path, want)
					}
				}
				if !strings.Contains(bc.code, "_") && (e.Errno == 0 || e.Errno.Error() == "" || !errors.Is(err, e.Errno)) {
					t.Fatalf("no Errno in %#v", e)
				}
				if e.Error() == "" {
					t.Fatal("empty message")
				}
				if r != nil && (r.Pid != 0 || r.Status != -1 || r.Output != nil || r.Signal != "") {
					t.Fatalf("sync result of a child that never ran: %+v", r)
				}
				if d := time.Since(start); d > 10*time.Second {
					t.Fatalf("took %v to fail", d)
				}
				// Nothing ran, and nothing was left behind.
				if _, err := os.Stat(env.marker); err == nil {
					os.Remove(env.marker)
					t.Fatal("the program ran")
				}
				if _, err := os.Stat(env.plain + ".ran"); err == nil {
					os.Remove(env.plain + ".ran")
					t.Fatal("the non-executable script ran")
				}
				if kids := newChildren(kidsBefore, ourChildren()); len(kids) > 0 {
					t.Fatalf("child processes left: %v", kids)
				}
				if fds := newFds(fdsBefore, openFds(t)); len(fds) > 0 {
					t.Fatalf("fds left open: %v", fds)
				}
			})
		}
	}
	if ran < 200 {
		t.Fatalf("only %d combinations ran", ran)
	}
}

// closedFile returns an *os.File that has been closed. Given as a stdio
// entry it must be refused (EBADF), like a bad fd number: Go's
// os.StartProcess would otherwise close that fd in the child, whose next
// open file would then take its place (stdout going into some file).
func closedFile() *os.File {
	f, err := os.Open(os.DevNull)
	if err != nil {
		panic(err)
	}
	f.Close()
	return f
}
