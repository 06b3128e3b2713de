package childproc

import (
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/childproc/childproc/internal/proctree"
	"github.com/childproc/childproc/ipc"
)

// Child is a running or finished child process, returned once it has
// started (Node's 'spawn' event).
//
// Its lifecycle runs whether or not anyone calls Wait: when the process
// ends it is reaped (it never lingers as a zombie), Exited is closed
// (Node's 'exit'), stdio still open is drained and closed, and only then
// does Wait return (Node's 'close'). Like os/exec's Wait, the first Wait
// (or Output) runs the lifecycle in its own goroutine, which spares a
// hand-off between threads; when nobody calls Wait, Exited or Done within
// a millisecond of the start, or when Timeout or a cancellable context
// may stop the child, it runs in a goroutine of its own.
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

	proc      *os.Process
	spawnfile string
	spawnargs []string
	cmd       string
	set       *settings

	pipes      []io.ReadWriteCloser // Stdio(i): the parent's end of each pipe entry
	streams    []*stream            // the pipes the user reads; drained after exit
	stdinW     *pipeEnd             // closed on exit
	copiers    []*copier            // from the child's output to io.Writer entries
	ins        sync.WaitGroup       // copiers from io.Reader entries to the child
	borrowed   []*stream            // other children's streams this child reads as stdin
	overflowed chan struct{}        // closed when a capBuffer entry passed MaxBuffer; nil without one

	stdout, stderr *capBuffer // Exec and ExecFile; else nil

	stopAbort  func() bool
	timer      *time.Timer       // Timeout
	forceTimer *time.Timer       // ForceKillAfter
	held       []proctree.Member // what a stop found of the tree, for its SIGKILL
	pgid       int               // the child's own process group, or 0 when it shares ours
	marker     string            // the tree marker in the child's environment
	guard      *guardLink        // the registration with the guardian, or nil

	exited    chan struct{}
	done      chan struct{}
	claimed   atomic.Bool // someone runs the lifecycle
	reapTimer *time.Timer // runs it in the background unless Wait came first

	mu          sync.Mutex // held while signalling and reaping, so that no signal meets a reused pid
	reaped      bool
	reapTick    uint64 // the clock tick of the reap (Linux), see tree
	killed      bool
	forceKilled bool // ForceKillAfter ran out and SIGKILL reached the child
	timedOut    bool
	aborted     bool
	abortCause  error
	overflow    string // "stdout" or "stderr" once a buffer passed MaxBuffer
	cutIO       bool   // WaitDelay (or StopWaitDelay) ran out
	copyErr     *Error // a copy to an io.Writer entry failed
	exitCode    int
	signal      string
	state       *os.ProcessState
	ch          *ipc.Channel // the IPC channel, or nil
	entry       string       // ForkEntry: the entry point
	entrySock   *os.File     // ForkEntry: the parent's end of the entry's handoff, until the child is reaped
	err         error        // what Wait returns
	began       time.Time    // the start, when Options.Logger traces it
}

// Pid returns the child's process id.
func (c *Child) Pid() int { return c.proc.Pid }

// Spawnfile returns the program that was run: the shell for Exec or
// Options.Shell, ExecPath for a forked script (Node's spawnfile).
func (c *Child) Spawnfile() string { return c.spawnfile }

// Spawnargs returns the child's whole argv, argv[0] included (Node's
// spawnargs).
func (c *Child) Spawnargs() []string { return append([]string(nil), c.spawnargs...) }

// Stdio returns the parent's end of the pipe at the child's fd i, or nil
// when Stdio[i] is not a pipe (Node's subprocess.stdio[i]). Entries from 3
// up are sockets that can be both read and written.
func (c *Child) Stdio(i int) io.ReadWriteCloser {
	if i < 0 || i >= len(c.pipes) {
		return nil
	}
	return c.pipes[i]
}

// Killed reports whether Kill (or Timeout, abort or MaxBuffer) delivered a
// signal to the child. It does not mean the child has ended.
func (c *Child) Killed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.killed
}

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
func (c *Child) claim() bool {
	if !c.claimed.CompareAndSwap(false, true) {
		return false
	}
	if c.reapTimer != nil {
		c.reapTimer.Stop()
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

// startLifecycle arranges for the lifecycle to run: at once in a
// goroutine of its own when a timer or a context may stop the child (so
// that the stop never finds it ended and not reaped), else in the first
// Wait, or in the background after reapDelay.
func (c *Child) startLifecycle(eager bool) {
	if eager {
		c.watch()
		return
	}
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
	if !c.reaped {
		return -1
	}
	return c.exitCode
}

// SignalCode returns the name of the signal that ended the child
// ("SIGKILL"), or "" while it runs or when it exited normally.
func (c *Child) SignalCode() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.signal
}

// ProcessState returns what the kernel reported about the ended child, or
// nil while it runs.
func (c *Child) ProcessState() *os.ProcessState {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

// Wait waits until the child has exited and all its stdio has closed
// (Node's 'close'): the pipes the user reads have reached their end (or
// been closed, or drained after exit), and the copies to io.Writer entries
// are complete. Bounded by Options.WaitDelay when it is set, and by
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
	c.reaped = true
	// Timeout and abort end with the reap; a stop they began finds the
	// child reaped and does nothing (neither call waits for it).
	if c.timer != nil {
		c.timer.Stop()
	}
	if c.stopAbort != nil {
		c.stopAbort()
	}
	if c.forceTimer != nil && !c.set.KillTree && len(c.held) == 0 {
		c.forceTimer.Stop() // a KillTree tree may still hold SIGTERM-proof processes
	}
	if err == nil {
		c.state = state
		c.exitCode, c.signal = exitStatus(state)
	} else {
		c.exitCode = -1
	}
	c.mu.Unlock()
	c.guard.release()
	c.traceExit()
	close(c.exited)
	if c.stdinW != nil {
		c.stdinW.Close()
	}
	c.finishIO()
	c.err = c.result(err)
	close(c.done)
}

// reap waits for the child to end and reaps it, and returns with c.mu
// held. Where the end can be awaited without reaping (Linux), the reap
// itself happens under c.mu, under which every signal is sent: until
// then the zombie keeps its pid and process group from being reused, so
// a signal sent under c.mu to a child not yet reaped reaches the child's
// own group.
func (c *Child) reap() (*os.ProcessState, error) {
	if !proctree.AwaitExit(c.proc.Pid) {
		state, err := c.proc.Wait()
		c.mu.Lock()
		return state, err
	}
	c.mu.Lock()
	c.reapTick = proctree.ClockTick()
	return c.proc.Wait()
}

// StopWaitDelay bounds how long Wait waits for the stdio of a child that
// Timeout, abort or MaxBuffer stopped, once the child has exited (or, for
// MaxBuffer, once the buffer overflowed after the exit): grandchildren
// that escaped the stop and hold the pipes cannot hold up Wait, which
// returns at most ForceKillAfter plus StopWaitDelay after the stop. When
// it runs out the stdio is cut as WaitDelay cuts it (Options.WaitDelay
// applies instead when it is shorter).
const StopWaitDelay = time.Second

// finishIO waits for the child's stdio to end, draining the pipes the user
// holds, within WaitDelay when one is set, or StopWaitDelay after a stop.
func (c *Child) finishIO() {
	for _, s := range c.borrowed {
		s.giveBack()
	}
	delay := c.stdioDelay()
	if len(c.streams) == 0 && len(c.copiers) == 0 && c.ch == nil && delay == 0 {
		c.ins.Wait()
		return
	}
	var drains sync.WaitGroup
	for _, s := range c.streams {
		if s.drainNow() {
			continue // at its end already: no goroutine needed
		}
		drains.Add(1)
		go func() {
			defer drains.Done()
			s.drain()
		}()
	}
	if delay == 0 && c.overflowed == nil {
		c.awaitIO(&drains)
		return
	}
	all := make(chan struct{})
	go func() {
		c.awaitIO(&drains)
		close(all)
	}()
	if !c.awaitWithin(all, delay) {
		return
	}
	c.cutStdio()
	// Drains and output copiers end once their pipes are cut; a copier
	// blocked in a caller's io.Writer or io.Reader cannot be interrupted
	// and is left to finish on its own, as in os/exec.
	drains.Wait()
	for _, cp := range c.copiers {
		cp.awaitCut()
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
	if stopped := c.timedOut || c.aborted || c.overflow != ""; stopped && (d == 0 || d > StopWaitDelay) {
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

// awaitWithin waits for all to be closed, for at most delay (0: no
// bound) or StopWaitDelay after a MaxBuffer overflow that comes later.
// It reports whether the stdio must be cut.
func (c *Child) awaitWithin(all <-chan struct{}, delay time.Duration) bool {
	var expired <-chan time.Time
	if delay > 0 {
		t := time.NewTimer(delay)
		defer t.Stop()
		expired = t.C
	}
	overflowed := c.overflowed
	for {
		select {
		case <-all:
			return false
		case <-expired:
			return true
		case <-overflowed:
			overflowed = nil
			if expired == nil {
				t := time.NewTimer(StopWaitDelay)
				defer t.Stop()
				expired = t.C
			}
		}
	}
}

// awaitIO waits for every stdio of the child to end.
func (c *Child) awaitIO(drains *sync.WaitGroup) {
	drains.Wait()
	for _, cp := range c.copiers {
		<-cp.done
	}
	c.ins.Wait()
	if c.ch != nil {
		<-c.ch.Disconnected()
	}
}

// cutStdio ends the child's stdio at once, as WaitDelay does: what the
// pipes hold is read without waiting and delivered, then they are closed,
// and so is the IPC channel.
func (c *Child) cutStdio() {
	c.mu.Lock()
	c.cutIO = true
	c.mu.Unlock()
	for _, s := range c.streams {
		s.cutOff()
	}
	for _, cp := range c.copiers {
		cp.cutOff()
	}
	if c.ch != nil {
		c.ch.Close()
	}
}
