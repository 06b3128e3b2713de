package childproc

import (
	"io"
	"os"
	"strings"
	"sync/atomic"
	"time"
)

// Child is a running or finished child process, returned once it has
// started (Node's 'spawn' event).
//
// Its lifecycle runs whether or not anyone calls [Child.Wait]: when the
// process ends it is reaped (it never lingers as a zombie),
// [Child.Exited] is closed (Node's 'exit'), stdio still open is drained
// and closed, and only then does Wait return (Node's 'close').
type Child struct {
	// Stdin writes to the child's fd 0 when Stdio[0] is a pipe; else nil.
	// It is closed when the child exits, as Node destroys stdin on exit.
	Stdin io.WriteCloser
	// Stdout reads the child's fd 1 when Stdio[1] is a pipe; else nil.
	// It is nil for Exec and ExecFile, whose output Output returns.
	// Once the child has exited, Wait drains what is left into memory:
	// output nobody had read stays readable after Wait, up to MaxBuffer
	// bytes, after which a Read returns an error wrapping ErrTruncated;
	// output a reader has begun to read is never discarded (past
	// MaxBuffer bytes, Wait waits for the reader, as Node's 'close' waits
	// for a stream in use).
	Stdout io.ReadCloser
	// Stderr reads the child's fd 2, like Stdout.
	Stderr io.ReadCloser

	spawnfile string
	spawnargs []string
	cmd       string
	set       *settings
	began     time.Time // the start, when Options.Logger traces it

	life
	stdioSet
	stopper
	forkedEntry
}

// life is the part of a Child that runs its lifecycle once, in whichever
// goroutine claims it, and keeps how it ended.
type life struct {
	exited    chan struct{}
	done      chan struct{}
	claimed   atomic.Bool // someone runs the lifecycle
	reapTimer *time.Timer // runs it in the background unless Wait came first

	// Guarded by stopper.mu.
	state *os.ProcessState // nil until the child has been reaped

	err error // what Wait returns, set before done is closed
}

// status is the child's exit status and the name of the signal that ended
// it: -1 and "" until it has been reaped, and -1 for a signal.
func (l *life) status() (code int, signal string) {
	if l.state == nil {
		return -1, ""
	}
	return exitStatus(l.state)
}

// Pid returns the child's process id.
func (c *Child) Pid() int { return c.proc.Pid }

// Spawnfile returns the program that was run: the shell for Exec or
// [Options.Shell], ExecPath for a forked script (Node's spawnfile).
func (c *Child) Spawnfile() string { return c.spawnfile }

// Spawnargs returns the child's whole argv, argv[0] included (Node's
// spawnargs).
func (c *Child) Spawnargs() []string { return append([]string(nil), c.spawnargs...) }

// Exited is closed when the child process has ended and been reaped
// (Node's 'exit'), even while a grandchild still holds its stdout open.
func (c *Child) Exited() <-chan struct{} {
	c.watch()
	return c.exited
}

// Done is closed when Wait would return (Node's 'close').
func (c *Child) Done() <-chan struct{} {
	c.watch()
	return c.done
}

// reapDelay is how long a child may go without anyone waiting for it
// before its lifecycle runs in a goroutine of its own; a child that ends
// sooner than that stays a zombie until then.
const reapDelay = time.Millisecond

// claim reports whether the caller is the one to run the lifecycle, and
// if so cancels the background start.
func (l *life) claim() bool {
	if !l.claimed.CompareAndSwap(false, true) {
		return false
	}
	if l.reapTimer != nil {
		l.reapTimer.Stop()
	}
	return true
}

// watch makes sure the lifecycle runs, in a goroutine of its own if
// nobody runs it yet.
func (c *Child) watch() {
	if c.claim() {
		go c.lifecycle()
	}
}

// watchLater arranges for the lifecycle to run in the first Wait, or in
// a goroutine of its own after reapDelay.
func (c *Child) watchLater() {
	c.reapTimer = time.AfterFunc(reapDelay, func() {
		if c.claimed.CompareAndSwap(false, true) {
			c.lifecycle()
		}
	})
}

// wait runs the lifecycle in this goroutine if nobody runs it yet, and
// returns once it is over.
func (c *Child) wait() {
	if c.claim() {
		c.lifecycle()
		return
	}
	<-c.done
}

// ExitCode returns the child's exit status, or -1 while it runs or when a
// signal ended it (Node's exitCode null).
func (c *Child) ExitCode() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	code, _ := c.status()
	return code
}

// SignalCode returns the name of the signal that ended the child
// ("SIGKILL"), or "" while it runs or when it exited normally.
func (c *Child) SignalCode() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, signal := c.status()
	return signal
}

// ProcessState returns what the kernel reported about the ended child, or
// nil while it runs.
func (c *Child) ProcessState() *os.ProcessState {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

// Rusage returns what the child used once it has exited, or nil while it
// runs or if it could not be reaped.
func (c *Child) Rusage() *Rusage {
	c.mu.Lock()
	defer c.mu.Unlock()
	return rusageOf(c.state)
}

// RSS returns the resident set size of the running child in bytes, as the
// kernel counts it now (Linux: /proc/<pid>/statm). It returns an *Error
// with code ESRCH once the child has been reaped, and an error wrapping
// errors.ErrUnsupported where the platform does not say; after the exit,
// Rusage has the peak. The first call opens the child's memory counters,
// which stay open until the reap: each later call is one read.
func (c *Child) RSS() (int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.reaped {
		return 0, killError(os.ErrProcessDone)
	}
	if c.resident == nil {
		f, err := openResident(c.proc.Pid)
		if err != nil {
			return 0, err
		}
		c.resident = f
	}
	return readResident(c.resident)
}

// Wait waits until the child has exited and all its stdio has closed
// (Node's 'close'): the pipes the user reads have reached their end (or
// been closed, or drained after exit), and the copies to io.Writer entries
// are complete. Bounded by [Options.WaitDelay] when it is set, and by
// StopWaitDelay after Timeout, abort or MaxBuffer stopped the child.
//
// It returns nil for exit status 0, else an *Error: "Command failed" with
// ExitCode or Signal; CodeAbort when the context ended the child;
// CodeMaxBuffer when a buffered stream overflowed; CodeWaitDelay when
// WaitDelay cut the stdio of a child that had succeeded (the message of
// any other error then says the stdio was cut); the error of an
// io.Reader stdin entry or an io.Writer entry when the child succeeded.
// For a child of ForkEntry, a failure names the entry ("entry 'worker'
// failed: ...") and carries the error the entry returned as an
// *EntryError (errors.As), and a child that ran main instead of the entry
// is CodeEntryNotRun. Wait may be called any number of times, from any
// goroutine.
func (c *Child) Wait() error {
	c.wait()
	return c.err
}

// Output waits like Wait and returns what the child wrote to stdout and
// stderr: Node's exec callback (error, stdout, stderr). Only Exec and
// ExecFile buffer their output; for other children both are nil.
func (c *Child) Output() (stdout, stderr []byte, err error) {
	c.wait()
	return c.stdout.Bytes(), c.stderr.Bytes(), c.err
}

// lifecycle reaps the child and then finishes its stdio. It runs once,
// in whichever goroutine claimed it.
func (c *Child) lifecycle() {
	state, err := c.reap()
	if err == nil {
		c.state = state
	}
	c.mu.Unlock()
	c.guard.Release()
	c.traceExit()
	close(c.exited)
	c.closeStdin()
	c.finish(c.stdioDelay())
	c.err = c.result(err)
	close(c.done)
}

// result is what Wait returns, computed once the child has closed.
func (c *Child) result(waitErr error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.endError()
	if c.explainFailure(e, waitErr) {
		if c.cutIO {
			e.msg = c.cutNote(e.msg)
		}
		return e
	}
	if c.cutIO {
		e.Code, e.Err, e.msg = CodeWaitDelay, ErrWaitDelay, "Command "+c.cmd+": stdio still open "+c.stdioDelayLocked().String()+" after exit"
		return e
	}
	return nil
}

// endError is the error of the child's end before it is explained: the
// command, how it ended, what the stop did, and Exec's output.
func (c *Child) endError() *Error {
	code, signal := c.status()
	e := &Error{
		Cmd:         c.cmd,
		ExitCode:    code,
		Signal:      signal,
		Killed:      c.killed,
		TimedOut:    c.timedOut,
		ForceKilled: c.forceKilled,
		Limit:       c.limitHit(),
	}
	if c.stdout != nil {
		e.Stdout, e.Stderr = c.stdout.Bytes(), c.stderr.Bytes()
	}
	return e
}

// explainFailure gives e the code and message of the first thing that
// went wrong, in this order: the wait, the abort, MaxBuffer, an entry
// that never ran, the exit status, a copy. It reports false when nothing
// did.
func (c *Child) explainFailure(e *Error, waitErr error) bool {
	report := c.report()
	switch {
	case waitErr != nil:
		e.Code, e.Err, e.msg = "UNKNOWN", waitErr, "wait: "+waitErr.Error()
	case c.abortCause != nil:
		e.abort(c.abortCause)
	case c.overflow != "":
		e.Code, e.Err, e.msg = CodeMaxBuffer, ErrMaxBuffer, c.overflow+" maxBuffer length exceeded"
	case !c.killed && c.notRun(report):
		e.Code, e.msg = CodeEntryNotRun, entryNotRunMessage(c.entry)
	case e.ExitCode != 0 || e.Signal != "":
		e.commandFailed(c.set.Limits)
		c.explain(e, report)
	case c.copyErr != nil:
		e.Code, e.Err, e.msg = c.copyErr.Code, c.copyErr.Err, c.copyErr.msg
	default:
		return false
	}
	return true
}

// maxBufferExceeded does what Node does when a buffered stream overflows:
// the stream stops reading (its copier has stopped) and the child is sent
// KillSignal. What the other stream already holds is kept: it is read on,
// and cut StopWaitDelay after the exit if grandchildren hold it.
func (c *Child) maxBufferExceeded(name string) {
	c.mu.Lock()
	first := c.overflow == ""
	if first {
		c.overflow = name
	}
	c.mu.Unlock()
	if !first {
		return
	}
	c.stop(func() {})
	close(c.overflowed)
}

// copyFailed records the first copy to or from the child that failed.
func (c *Child) copyFailed(what string, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.copyErr == nil {
		c.copyErr = &Error{Code: "EIO", Cmd: c.cmd, ExitCode: -1, Err: err, msg: what + ": " + err.Error()}
	}
}

// stdioDelay is how long Wait waits for the stdio after the exit: 0 for
// no bound, WaitDelay, or StopWaitDelay (at most) after a stop.
func (c *Child) stdioDelay() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stdioDelayLocked()
}

func (c *Child) stdioDelayLocked() time.Duration {
	d := c.set.WaitDelay
	if stopped := c.timedOut || c.abortCause != nil || c.overflow != ""; stopped && (d == 0 || d > StopWaitDelay) {
		d = StopWaitDelay
	}
	return d
}

// cutNote adds to the message of a stopped child's error that its stdio
// was cut.
func (c *Child) cutNote(msg string) string {
	head, tail, more := strings.Cut(msg, "\n")
	head += "; stdio still open " + c.stdioDelayLocked().String() + " after exit, cut"
	if more {
		head += "\n" + tail
	}
	return head
}

// limitHit names the limit that ended the child, if one did and childproc
// did not signal it.
func (c *Child) limitHit() string {
	if c.killed || !c.reaped {
		return ""
	}
	code, signal := c.status()
	x := ending{code: code, signal: signal, usage: rusageOf(c.state)}
	if c.stderr != nil {
		x.stderr = c.stderr.Bytes()
	}
	return c.set.Limits.exceeded(x)
}
