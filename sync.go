package childproc

import (
	"context"
	"io"
	"os"
	"syscall"
)

// SyncResult is what SpawnSync returns: Node's spawnSync result.
type SyncResult struct {
	Pid    int      // 0 when the child did not start
	Output [][]byte // for each stdio index, what the child wrote to it when it was a pipe; nil elsewhere (Output[0] is always nil)
	Stdout []byte   // Output[1]
	Stderr []byte   // Output[2]
	Status int      // the exit status; -1 when a signal ended the child or it did not start (Node: null)
	Signal string   // the signal that ended the child ("SIGTERM"), or ""
	Rusage *Rusage  // what the child used; nil when it did not start
	Err    error    // an *Error when the child did not start (ENOENT, ...), timed out (ETIMEDOUT) or overflowed MaxBuffer (ENOBUFS); nil otherwise, even for a non-zero Status
}

// SpawnSync runs name with args to completion: Node's spawnSync. It never
// returns a Go error for a non-zero exit: look at Status and Signal. Every
// pipe entry of Stdio (all three by default) is buffered into Output,
// MaxBuffer bytes at most; [Options.Input] is written to stdin.
func SpawnSync(name string, args []string, opts *Options) *SyncResult {
	if err := checkCommand("file", name, args); err != nil {
		return &SyncResult{Status: -1, Err: err}
	}
	set, err := check(opts)
	if err != nil {
		return &SyncResult{Status: -1, Err: err}
	}
	return runSync(newSpec("spawnSync", name, args, set).withArgv0())
}

// runSync runs a spec to completion, buffering every pipe.
func runSync(sp *spec) *SyncResult {
	if err := checkSyncStdioModes(sp.stdio); err != nil {
		return &SyncResult{Status: -1, Err: err}
	}
	var bufs []*capBuffer
	sp.stdio, bufs = syncStdio(sp)
	c, serr := start(context.Background(), sp)
	if serr != nil {
		return &SyncResult{Status: -1, Err: serr}
	}
	c.wait()
	return c.syncResult(sp, bufs)
}

// syncStdio is the stdio of a sync child: every pipe entry but stdin is
// buffered, and stdin is fed from Input (start does that) or gets EOF at
// once. bufs holds the buffer of each fd, or nil.
func syncStdio(sp *spec) (entries []any, bufs []*capBuffer) {
	n := max(3, len(sp.stdio))
	entries = make([]any, n)
	bufs = make([]*capBuffer, n)
	for i := range entries {
		if i < len(sp.stdio) {
			entries[i] = sp.stdio[i]
		}
		switch {
		case !isPipeEntry(sp.stdio, i):
		case i > 0:
			bufs[i] = &capBuffer{limit: sp.set.maxBuffer}
			entries[i] = bufs[i]
		case sp.set.Input != nil:
			entries[i] = Pipe // start fills it from Input
		default:
			entries[i] = emptyReader{}
		}
	}
	return entries, bufs
}

// syncResult is the SyncResult of a sync child that has closed.
func (c *Child) syncResult(sp *spec, bufs []*capBuffer) *SyncResult {
	r := &SyncResult{Pid: c.Pid(), Output: make([][]byte, len(bufs)), Rusage: rusageOf(c.state)}
	r.Status, r.Signal = c.status()
	for i, b := range bufs {
		if b != nil {
			r.Output[i] = b.Bytes()
		}
	}
	r.Stdout, r.Stderr = r.Output[1], r.Output[2]
	var errno syscall.Errno
	switch {
	case c.timedOut:
		errno = syscall.ETIMEDOUT
	case c.overflow != "":
		errno = syscall.ENOBUFS
	case c.copyErr != nil:
		r.Err = c.copyErr
	case c.cutIO:
		r.Err = c.err
	}
	if errno != 0 {
		e := sp.spawnError(errno, "")
		e.ExitCode, e.Signal, e.Killed, e.TimedOut, e.ForceKilled = r.Status, r.Signal, c.killed, c.timedOut, c.forceKilled
		e.Stdout, e.Stderr = r.Stdout, r.Stderr
		r.Err = e
	}
	return r
}

// emptyReader gives a sync child's stdin an immediate EOF, as Node does
// when there is no input.
type emptyReader struct{}

func (emptyReader) Read([]byte) (int, error) { return 0, io.EOF }

// ExecFileSync runs file with args to completion and returns its stdout:
// Node's execFileSync. A child that did not start, timed out, overflowed
// MaxBuffer, exited non-zero or was ended by a signal is an *Error that
// carries ExitCode, Signal, Stdout and Stderr. When [Options.Stdio] is nil
// the child's stderr is also copied to the parent's, as Node does.
func ExecFileSync(file string, args []string, opts *Options) ([]byte, error) {
	if err := checkCommand("file", file, args); err != nil {
		return nil, err
	}
	set, err := check(opts)
	if err != nil {
		return nil, err
	}
	return execSync(newSpec("spawnSync", file, args, set).withArgv0())
}

// ExecSync runs command through a shell to completion and returns its
// stdout: Node's execSync. Errors are as in ExecFileSync.
func ExecSync(command string, opts *Options) ([]byte, error) {
	if err := checkCommand("command", command, nil); err != nil {
		return nil, err
	}
	set, err := check(opts)
	if err != nil {
		return nil, err
	}
	return execSync(shellSpec("spawnSync", command, set))
}

func execSync(sp *spec) ([]byte, error) {
	inheritStderr := sp.set.Stdio == nil
	r := runSync(sp)
	if inheritStderr && len(r.Stderr) > 0 {
		os.Stderr.Write(r.Stderr)
	}
	if r.Err != nil {
		return r.Stdout, r.Err
	}
	if r.Status != 0 || r.Signal != "" {
		e := &Error{
			Cmd:      sp.cmd,
			ExitCode: r.Status,
			Signal:   r.Signal,
			Limit:    sp.set.Limits.exceeded(ending{code: r.Status, signal: r.Signal, usage: r.Rusage, stderr: r.Stderr}),
			Stdout:   r.Stdout,
			Stderr:   r.Stderr,
		}
		return r.Stdout, e.commandFailed(sp.set.Limits)
	}
	return r.Stdout, nil
}
