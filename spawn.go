package childproc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/childproc/childproc/ipc"
	"io/fs"
	"os"
	"syscall"
	"time"

	"github.com/childproc/childproc/internal/proctree"
)

// spec is one child to start, after the arguments have been normalized as
// Node's normalizeSpawnArguments does.
type spec struct {
	sys      string   // "spawn" or "spawnSync": the Syscall of spawn errors
	file     string   // the program run (Node's spawnfile): the shell when there is one
	args     []string // its arguments, without argv[0]
	argv0    string   // argv[0]
	cmd      string   // the command line for error messages
	set      *settings
	stdio    []any
	buffered bool   // Exec, ExecFile: stdout and stderr go to capBuffers
	combined bool   // CombinedOutput: stdout and stderr go to the same capBuffer
	entry    string // ForkEntry: the entry point the child is forked into
}

// newSpec makes the spec of file run with args, through Options.Shell when
// it is set. Its argv[0] is the program run.
func newSpec(sys, file string, args []string, set *settings) *spec {
	sp := &spec{sys: sys, file: file, args: args, argv0: file, set: set, stdio: set.Stdio, cmd: commandLine(file, args)}
	if set.Shell != "" {
		sp.runIn(set.Shell)
	}
	return sp
}

// shellSpec makes the spec of a command line run by Options.Shell, or by
// DefaultShell when it is not set (Exec).
func shellSpec(sys, command string, set *settings) *spec {
	sp := newSpec(sys, command, nil, set)
	if set.Shell == "" {
		sp.runIn(DefaultShell)
	}
	return sp
}

// runIn makes sp run its command line in shell.
func (sp *spec) runIn(shell string) {
	sp.file, sp.args, sp.argv0 = shell, shellArgs(shell, sp.cmd), shell
}

// withArgv0 gives sp Options.Argv0 as its argv[0], when it is set.
func (sp *spec) withArgv0() *spec {
	if sp.set.Argv0 != "" {
		sp.argv0 = sp.set.Argv0
	}
	return sp
}

// Spawn starts name with args and returns once it runs (Node's spawn and
// its 'spawn' event). By default its stdin, stdout and stderr are pipes:
// read Child.Stdout and Child.Stderr, write and close Child.Stdin.
//
// Spawn reads every field of Options but ExecPath, ExecArgv, Silent and
// WindowsVerbatimArguments (see Options); Input only when Stdio[0] is a
// pipe (Stdin is then nil), Serialization and Channel only with an IPC
// entry in Stdio. A child that cannot be started is an *Error (ENOENT,
// EACCES, E2BIG, ...) and no process is left behind; so is bad input,
// which never starts anything.
// Cancelling ctx sends KillSignal to the child, whose Wait then reports
// CodeAbort; a ctx that is already done starts nothing.
func Spawn(ctx context.Context, name string, args []string, opts *Options) (*Child, error) {
	if err := checkCommand("file", name, args); err != nil {
		return nil, err
	}
	set, err := check(opts)
	if err != nil {
		return nil, err
	}
	c, serr := start(ctx, newSpec("spawn", name, args, set).withArgv0())
	if serr != nil {
		return nil, serr
	}
	return c, nil
}

// start starts a child from a spec. It is the one place processes begin:
// it checks what is left to check, finds the program, prepares the
// child's stdio and environment, starts the process and then what watches
// it.
func start(ctx context.Context, sp *spec) (*Child, *Error) {
	if err := checkStart(ctx, sp); err != nil {
		return nil, err
	}
	c := newChild(sp)
	env := childEnv(sp.set)
	path, err := sp.locate(env)
	if err != nil {
		return nil, sp.traceFailure(err)
	}
	st, err := c.setupStdio(c.stdioEntries(sp))
	if err != nil {
		return nil, sp.traceFailure(err)
	}
	proc, err := c.launch(sp, path, c.finalEnv(env, st), st)
	if err != nil {
		return nil, sp.traceFailure(err)
	}
	if err := c.started(ctx, proc, st); err != nil {
		return nil, sp.traceFailure(err)
	}
	return c, nil
}

// checkStart rejects what Options cannot say is wrong: a nil or done
// context, and the IPC entries of the spec's stdio.
func checkStart(ctx context.Context, sp *spec) *Error {
	if ctx == nil {
		return argError(CodeInvalidArgType, "The \"ctx\" argument must be a context.Context. Received nil")
	}
	if err := checkStdioModes(sp.stdio, false); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return (&Error{Cmd: sp.cmd, ExitCode: -1}).abort(context.Cause(ctx))
	}
	return nil
}

// newChild makes the Child of sp, not yet started.
func newChild(sp *spec) *Child {
	c := &Child{
		spawnfile: sp.file,
		spawnargs: append([]string{sp.argv0}, sp.args...),
		cmd:       sp.cmd,
		set:       sp.set,
		exited:    make(chan struct{}),
		done:      make(chan struct{}),
		exitCode:  -1,
	}
	if sp.buffered {
		c.stdout = &capBuffer{limit: sp.set.maxBuffer}
		c.stderr = &capBuffer{limit: sp.set.maxBuffer}
	}
	if sp.combined {
		c.stderr = c.stdout // equal io.Writer entries share one pipe
	}
	return c
}

// childEnv is the environment the child starts from: Options.Env, or
// this process's environment without the channel a parent gave it (Node
// removes those at startup; a child without its own IPC entry must not
// see them either), then Options.AddEnv; without repeated keys.
func childEnv(set *settings) []string {
	env := set.Env
	if env == nil {
		env = withoutKeys(os.Environ(), ipc.EnvChannelFD, ipc.EnvSerialization)
		if set.AddEnv == nil {
			return env
		}
	}
	return dedupEnv(append(env[:len(env):len(env)], set.AddEnv...))
}

// spawnError reports that sp could not be started.
func (sp *spec) spawnError(errno syscall.Errno, path string) *Error {
	return spawnError(sp.sys+" "+sp.file, sp.file, sp.args, sp.cmd, errno, path)
}

// locate checks Options.Cwd and finds the program as the child's exec
// will, from there.
func (sp *spec) locate(env []string) (string, *Error) {
	if cwd := sp.set.Cwd; cwd != "" {
		if fi, err := os.Stat(cwd); err != nil {
			return "", sp.spawnError(errnoOf(err, syscall.ENOENT), cwd)
		} else if !fi.IsDir() {
			return "", sp.spawnError(syscall.ENOTDIR, cwd)
		}
	}
	path, err := lookPath(sp.file, env, sp.set.Cwd)
	if err != nil {
		return "", sp.spawnError(errnoOf(err, syscall.ENOENT), "")
	}
	return path, nil
}

// stdioEntries are the stdio entries of sp as the child gets them: Exec's
// buffers in place of stdout and stderr, and Options.Input in place of a
// stdin pipe.
func (c *Child) stdioEntries(sp *spec) []any {
	entries := append([]any(nil), sp.stdio...)
	if c.stdout != nil {
		entries = []any{sp.stdio[0], c.stdout, c.stderr}
	}
	if sp.set.Input != nil && isPipeEntry(entries, 0) {
		if len(entries) == 0 {
			entries = append(entries, nil)
		}
		entries[0] = bytes.NewReader(sp.set.Input)
	}
	return entries
}

// finalEnv adds to env what childproc tells the child: its tree marker
// (KillTree) and its IPC channel.
func (c *Child) finalEnv(env []string, st *stdioSetup) []string {
	if c.set.KillTree {
		c.marker = proctree.NewMarker()
		env = append(env[:len(env):len(env)], proctree.EnvKey+"="+c.marker)
	}
	if st.ipcFd >= 0 {
		env = c.ipcEnv(env, st.ipcFd)
	}
	return env
}

// launch starts the process: through the Limits shim when there are
// limits, with the entry's handoff for ForkEntry, once the guardian is
// ready for a guarded child. The guardian starts only for input that is
// known good, and before the fork, so that a guardian that cannot start
// runs nothing. On error nothing stays open.
func (c *Child) launch(sp *spec, path string, env []string, st *stdioSetup) (*os.Process, *Error) {
	set := sp.set
	if isGuarded(set) {
		if err := readyGuardian(); err != nil {
			st.close()
			return nil, guardianError(err)
		}
	}
	attr := &os.ProcAttr{Dir: set.Cwd, Env: env, Files: st.files, Sys: sysProcAttr(set)}
	if sp.entry != "" {
		if err := c.offerEntry(sp.entry, attr, st); err != nil {
			st.close()
			return nil, err
		}
	}
	execPath := path
	var sh *shim
	if !set.Limits.empty() {
		self, s, w, err := startShim(set.Limits, path, attr)
		if err != nil {
			st.close()
			return nil, sysError("setrlimit", "", err)
		}
		execPath, sh = self, s
		st.childOwned = append(st.childOwned, w)
	}
	proc, err := startProcess(execPath, c.spawnargs, attr)
	for _, f := range st.childOwned {
		f.Close()
	}
	if sh != nil {
		err = sh.started(proc, err)
	}
	if err != nil {
		st.closeParent()
		return nil, sp.spawnError(errnoOf(err, syscall.EINVAL), "")
	}
	return proc, nil
}

// started sets up what follows a start: the entry's orders, the
// guardian's hold on the child, the stdio copiers, Timeout, the context's
// abort and the lifecycle.
func (c *Child) started(ctx context.Context, proc *os.Process, st *stdioSetup) *Error {
	set := c.set
	c.proc = proc
	if c.entrySock != nil {
		sendOrders(c.entrySock, c.entry) // a child gone before it read the name is seen in its report
	}
	if set.KillTree || set.Detached {
		c.pgid = proc.Pid
	}
	if isGuarded(set) {
		var err error
		if c.guard, err = guardChild(proc.Pid, c.treeStop()); err != nil {
			c.abandon()
			st.closeParent()
			return guardianError(err)
		}
	}
	for _, f := range st.starts {
		f()
	}
	c.traceSpawn()
	if set.Timeout > 0 {
		c.timer = time.AfterFunc(set.Timeout, func() { c.stop(func() { c.timedOut = true }) })
	}
	if ctx.Done() != nil {
		c.stopAbort = context.AfterFunc(ctx, func() {
			c.stop(func() { c.aborted, c.abortCause = true, context.Cause(ctx) })
		})
	}
	c.startLifecycle(set.Timeout > 0 || ctx.Done() != nil)
	return nil
}

// treeStop is how the guardian stops c's tree once the parent is gone:
// a negative ForceKillAfter counts as DefaultForceKillAfter there. It is
// the zero value for a child without KillTree.
func (c *Child) treeStop() treeStop {
	if !c.set.KillTree {
		return treeStop{}
	}
	delay := c.set.forceKillAfter
	if delay < 0 {
		delay = DefaultForceKillAfter
	}
	return treeStop{sig: sysSignal(c.set.killSignal), delay: delay, marker: c.marker}
}

// abandon kills and reaps a child that could not be guarded, with what it
// has already started.
func (c *Child) abandon() {
	c.mu.Lock()
	c.signalTreeLocked(syscall.SIGKILL)
	c.mu.Unlock()
	c.proc.Wait()
}

// guardianError reports that no guardian could take a child.
func guardianError(err error) *Error {
	e := sysError("guardian", "", err)
	e.msg += ": " + err.Error()
	return e
}

// result is what Wait returns, computed once the child has closed.
func (c *Child) result(waitErr error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := &Error{
		Cmd:         c.cmd,
		ExitCode:    c.exitCode,
		Signal:      c.signal,
		Killed:      c.killed,
		TimedOut:    c.timedOut,
		ForceKilled: c.forceKilled,
		Limit:       c.limitHit(),
	}
	if c.stdout != nil {
		e.Stdout, e.Stderr = c.stdout.Bytes(), c.stderr.Bytes()
	}
	var report entryReport
	if c.entrySock != nil {
		report = c.entryResult()
	}
	switch {
	case waitErr != nil:
		e.Code, e.Err, e.msg = "UNKNOWN", waitErr, "wait: "+waitErr.Error()
	case c.aborted:
		e.abort(c.abortCause)
	case c.overflow != "":
		e.Code, e.Err, e.msg = CodeMaxBuffer, ErrMaxBuffer, c.overflow+" maxBuffer length exceeded"
	case c.entryNotRun(report):
		e.Code, e.msg = CodeEntryNotRun, entryNotRunMessage(c.entry)
	case c.exitCode != 0 || c.signal != "":
		e.commandFailed(c.set.Limits)
		if c.entry != "" {
			c.entryError(e, report)
		}
	case c.copyErr != nil:
		e.Code, e.Err, e.msg = c.copyErr.Code, c.copyErr.Err, c.copyErr.msg
	case c.cutIO:
		e.Code, e.Err, e.msg = CodeWaitDelay, ErrWaitDelay, "Command "+c.cmd+": stdio still open "+c.stdioDelayLocked().String()+" after exit"
		return e
	default:
		return nil
	}
	if c.cutIO {
		e.msg = c.cutNote(e.msg)
	}
	return e
}

// checkStdioModes rejects a second IPC entry, and any in a sync call.
func checkStdioModes(entries []any, sync bool) *Error {
	if err := checkStdioNils(entries); err != nil {
		return err
	}
	n := 0
	for _, e := range entries {
		if m, ok := e.(StdioMode); ok && m == IPC {
			if sync {
				return argError(CodeIPCSyncFork, "IPC cannot be used with synchronous forks")
			}
			if n++; n > 1 {
				return argError(CodeIPCOnePipe, "Child process can have only one IPC pipe")
			}
		}
	}
	return nil
}

// isPipeEntry reports whether Stdio[i] asks for a pipe.
func isPipeEntry(entries []any, i int) bool {
	var e any
	if i < len(entries) {
		e = entries[i]
	}
	switch v := e.(type) {
	case nil:
		return i < 3
	case StdioMode:
		return v == Pipe || v == Overlapped
	case int:
		return v < 0
	}
	return false
}

// errnoOf extracts the system error number of err, or returns def.
func errnoOf(err error, def syscall.Errno) syscall.Errno {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno
	}
	if errors.Is(err, fs.ErrNotExist) {
		return syscall.ENOENT
	}
	if errors.Is(err, fs.ErrPermission) {
		return syscall.EACCES
	}
	return def
}

// sysError reports a system call that failed while preparing a child.
func sysError(syscallName, path string, err error) *Error {
	errno := errnoOf(err, 0)
	code := "UNKNOWN"
	if errno != 0 {
		code = errnoName(errno)
	}
	msg := syscallName + " " + code
	if path != "" {
		msg += " " + path
	}
	return &Error{Code: code, Errno: errno, Syscall: syscallName, Path: path, ExitCode: -1, Err: err, msg: msg}
}

func typeName(v any) string { return fmt.Sprintf("type %T", v) }

// dedupEnv keeps the last entry of each key, as os/exec does: a child's
// getenv would otherwise see the first one while a shell sees the last.
func dedupEnv(env []string) []string {
	seen := make(map[string]bool, len(env))
	out := make([]string, 0, len(env))
	for i := len(env) - 1; i >= 0; i-- {
		k := envKey(env[i])
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, env[i])
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// withoutKeys returns env without the entries of keys.
func withoutKeys(env []string, keys ...string) []string {
	out := env[:0:0]
	for _, kv := range env {
		k := envKey(kv)
		drop := false
		for _, key := range keys {
			drop = drop || k == key
		}
		if !drop {
			out = append(out, kv)
		}
	}
	return out
}
