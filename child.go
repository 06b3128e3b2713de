package childproc

import (
	"github.com/childproc/childproc/ipc"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"
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
// reapDelay of the start, or when Timeout or a cancellable context may
// stop the child, it runs in a goroutine of its own.
type Child struct {
	// Stdin writes to the child's fd 0 when Stdio[0] is a pipe; else nil.
	// It is closed when the child exits, as Node destroys stdin on exit.
	Stdin io.WriteCloser
	// Stdout reads the child's fd 1 when Stdio[1] is a pipe; else nil.
	// It is nil for Exec and ExecFile, whose output Output returns.
	// Output the child wrote and nobody read before it exited stays
	// readable after Wait (up to MaxBuffer bytes).
	Stdout io.ReadCloser
	// Stderr reads the child's fd 2, like Stdout.
	Stderr io.ReadCloser

	proc      *os.Process
	spawnfile string
	spawnargs []string
	cmd       string
	set       *settings

	pipes    []io.ReadWriteCloser // Stdio(i): the parent's end of each pipe entry
	streams  []*stream            // the pipes the user reads; drained after exit
	stdinW   *pipeEnd             // closed on exit
	outs     sync.WaitGroup       // copiers from the child's output to io.Writer entries
	ins      sync.WaitGroup       // copiers from io.Reader entries to the child
	readEnds []*os.File           // what copiers read; closed when WaitDelay runs out

	stdout, stderr *capBuffer // Exec and ExecFile
	buffered       bool       // Exec and ExecFile: Output has the output
	cutOnKill      bool       // buffered forms: stop reading once Timeout or abort kills the child

	stopAbort  func() bool
	timer      *time.Timer // Timeout
	forceTimer *time.Timer // ForceKillAfter
	tree       bool        // Options.KillTree: kills reach the whole tree
	pgid       int         // the child's own process group, or 0 when it shares ours
	marker     string      // the tree marker in the child's environment
	guard      *guardLink  // the registration with the guardian, or nil

	exited    chan struct{}
	done      chan struct{}
	claimed   atomic.Bool // someone runs the lifecycle
	reapTimer *time.Timer // runs it in the background unless Wait came first

	mu          sync.Mutex // held while signalling, so that flags and reaping agree
	reaped      bool
	killed      bool
	forceKilled bool // ForceKillAfter ran out and SIGKILL reached the child
	timedOut    bool
	aborted     bool
	abortCause  error
	overflow    string // "stdout" or "stderr" once a buffer passed MaxBuffer
	cutIO       bool   // WaitDelay ran out
	copyErr     *Error // a copy to an io.Writer entry failed
	exitCode    int
	signal      string
	state       *os.ProcessState
	ipcFd       int          // the child fd of the IPC channel, or -1
	ch          *ipc.Channel // the IPC channel, or nil
	err         error        // what Wait returns
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
// are complete. Bounded by Options.WaitDelay when it is set.
//
// It returns nil for exit status 0, else an *Error: "Command failed" with
// ExitCode or Signal; CodeAbort when the context ended the child;
// CodeMaxBuffer when a buffered stream overflowed; CodeWaitDelay when
// WaitDelay cut the stdio of a child that had succeeded. Wait may be
// called any number of times, from any goroutine.
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
	state, err := c.proc.Wait()
	if c.timer != nil {
		c.timer.Stop()
	}
	if c.stopAbort != nil {
		c.stopAbort()
	}
	c.mu.Lock()
	c.reaped = true
	if c.forceTimer != nil && !c.tree {
		c.forceTimer.Stop() // a tree may still hold SIGTERM-proof grandchildren
	}
	if err == nil {
		c.state = state
		c.exitCode, c.signal = exitStatus(state)
	} else {
		c.exitCode = -1
	}
	c.mu.Unlock()
	c.guard.release()
	close(c.exited)
	if c.stdinW != nil {
		c.stdinW.Close()
	}
	c.finishIO()
	c.err = c.result(err)
	close(c.done)
}

// finishIO waits for the child's stdio to end, draining the pipes the user
// holds, within WaitDelay when one is set.
func (c *Child) finishIO() {
	if len(c.streams) == 0 && len(c.readEnds) == 0 && c.ch == nil && c.set.WaitDelay == 0 {
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
	var disconnected <-chan struct{}
	if c.ch != nil {
		disconnected = c.ch.Disconnected()
	}
	if c.set.WaitDelay == 0 {
		drains.Wait()
		c.outs.Wait()
		c.ins.Wait()
		if disconnected != nil {
			<-disconnected
		}
		return
	}
	all := make(chan struct{})
	go func() {
		drains.Wait()
		c.outs.Wait()
		c.ins.Wait()
		if disconnected != nil {
			<-disconnected
		}
		close(all)
	}()
	t := time.NewTimer(c.set.WaitDelay)
	defer t.Stop()
	select {
	case <-all:
		return
	case <-t.C:
	}
	c.mu.Lock()
	c.cutIO = true
	c.mu.Unlock()
	for _, s := range c.streams {
		s.f.Close()
	}
	for _, f := range c.readEnds {
		f.Close()
	}
	if c.ch != nil {
		c.ch.Close()
	}
	// Drains and output copiers end once their pipes are closed; a copier
	// blocked reading a caller's io.Reader cannot be interrupted and is
	// left to finish on its own, as in os/exec.
	drains.Wait()
	c.outs.Wait()
}
