package childproc

import (
	"context"
	"os"
	"syscall"

	"github.com/childproc/childproc/internal/guardian"
	"github.com/childproc/childproc/internal/proctree"
	"github.com/childproc/childproc/internal/shim"
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

// newSpec makes the spec of file run with args, through [Options.Shell] when
// it is set. Its argv[0] is the program run.
func newSpec(sys, file string, args []string, set *settings) *spec {
	sp := &spec{sys: sys, file: file, args: args, argv0: file, set: set, stdio: set.Stdio, cmd: commandLine(file, args)}
	if set.Shell != "" {
		sp.runIn(set.Shell)
	}
	return sp
}

// shellSpec makes the spec of a command line run by [Options.Shell], or by
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

// withArgv0 gives sp [Options.Argv0] as its argv[0], when it is set.
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
	st, err := c.setupStdio(sp)
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
	if err := checkStdioModes(sp.stdio); err != nil {
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
		life:      life{exited: make(chan struct{}), done: make(chan struct{})},
		stopper:   stopper{set: sp.set},
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

// spawnError reports that sp could not be started.
func (sp *spec) spawnError(errno syscall.Errno, path string) *Error {
	return spawnError(sp.sys+" "+sp.file, sp.file, sp.args, sp.cmd, errno, path)
}

// locate checks [Options.Cwd] and finds the program as the child's exec
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

// finalEnv adds to env what childproc tells the child: its tree's tag
// (KillTree) and its IPC channel.
func (c *Child) finalEnv(env []string, st *stdioSetup) []string {
	if c.set.KillTree {
		c.tag, env = proctree.NewTag(env)
	}
	if st.ipcFd >= 0 {
		env = ipcEnv(env, st.ipcFd, c.set.Serialization)
	}
	return env
}

// launch starts the process: through the Limits shim when there are
// limits, with the entry's handoff for ForkEntry, once the guardian is
// ready for a guarded child. On error nothing stays open.
func (c *Child) launch(sp *spec, path string, env []string, st *stdioSetup) (*os.Process, *Error) {
	attr, err := c.procAttr(sp, env, st)
	if err != nil {
		st.close()
		return nil, err
	}
	execPath, sh, err := throughShim(sp.set.Limits, path, attr, st)
	if err != nil {
		st.close()
		return nil, err
	}
	proc, serr := startProcess(execPath, c.spawnargs, attr)
	for _, f := range st.childOwned {
		f.Close()
	}
	if sh != nil {
		serr = sh.Started(proc, serr)
	}
	if serr != nil {
		st.closeParent()
		return nil, sp.spawnError(errnoOf(serr, syscall.EINVAL), "")
	}
	return proc, nil
}

// procAttr makes the child's attributes, with the handoff of its entry
// for ForkEntry. The guardian starts first for a guarded child: only for
// input that is known good, and before the fork, so that a guardian that
// cannot start runs nothing.
func (c *Child) procAttr(sp *spec, env []string, st *stdioSetup) (*os.ProcAttr, *Error) {
	set := sp.set
	if isGuarded(set) {
		if err := guardian.Ready(); err != nil {
			return nil, guardianError(err)
		}
	}
	attr := &os.ProcAttr{Dir: set.Cwd, Env: env, Files: st.files, Sys: sysProcAttr(set)}
	if sp.entry != "" {
		if err := c.offer(sp.entry, attr, st); err != nil {
			return nil, err
		}
	}
	return attr, nil
}

// throughShim returns the program to exec for path and the shim that
// applies l before it runs path, or path itself and nil without limits.
func throughShim(l *Limits, path string, attr *os.ProcAttr, st *stdioSetup) (string, *shim.Shim, *Error) {
	if l.empty() {
		return path, nil, nil
	}
	self, sh, w, err := startShim(l, path, attr)
	if err != nil {
		return "", nil, sysError("setrlimit", "", err)
	}
	st.childOwned = append(st.childOwned, w)
	return self, sh, nil
}

// started sets up what follows a start: the entry's orders, the
// guardian's hold on the child, the stdio copiers, Timeout, the context's
// abort and the lifecycle.
func (c *Child) started(ctx context.Context, proc *os.Process, st *stdioSetup) *Error {
	set := c.set
	c.proc = proc
	c.sendOrders()
	if set.KillTree || set.Detached {
		c.pgid = proc.Pid
	}
	if isGuarded(set) {
		var err error
		if c.guard, err = guardian.Guard(proc.Pid, c.treeStop()); err != nil {
			c.abandon()
			st.closeParent()
			return guardianError(err)
		}
	}
	for _, f := range st.starts {
		f()
	}
	c.traceSpawn()
	c.stopOn(ctx, set.Timeout)
	if set.Timeout > 0 || ctx.Done() != nil {
		c.watch() // at once, so that a stop never finds the child ended and not reaped
	} else {
		c.watchLater()
	}
	return nil
}
