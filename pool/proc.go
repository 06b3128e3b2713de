package pool

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/childproc/childproc"
	"github.com/childproc/childproc/internal/jsontext"
)

// The life of one worker process: started, ready, given tasks until it
// dies or is stopped (retiring first when it is recycled), then gone.

type procState int

const (
	starting procState = iota // started, no ready message yet
	ready                     // takes tasks
	retiring                  // takes no more tasks; stops once its tasks are done
	stopping                  // being stopped; its answers are ignored
)

// exitGrace is how long a worker whose channel the pool closed may take
// to exit before it is stopped with Child.KillSignal.
const exitGrace = time.Second

// A proc is one worker process.
type proc struct {
	child *childproc.Child // nil until Start returns
	pid   int
	born  time.Time
	tail  *tail

	// load is len(running), for the readers to see without core.mu;
	// the rest lends the reading of the channel to a caller (lend.go).
	load   atomic.Int32
	kick   atomic.Pointer[context.CancelFunc]
	baton  chan struct{} // holds the right to read while nobody reads
	handed chan struct{} // passes it from the reader to the caller that kicked it
	rouse  chan struct{} // makes the reader look whether to take it back (see wake)
	lent   atomic.Bool   // the reader has lent the baton and waits to take it back
	backAt atomic.Int64  // when a caller last gave the baton back (monoNow)
	ended  atomic.Bool   // the channel ended while a caller read
	endErr error         // why, set before ended

	// The letters for pr go out in the order they were posted. The
	// goroutine that posted them sends them, with every other letter
	// waiting, unless another goroutine is sending: that one sends them
	// too before it stops (see core.flush).
	lmu      sync.Mutex
	letters  []letter    // posted, not yet taken to be sent; guarded by lmu
	sending  sync.Mutex  // held by the goroutine that sends pr's letters
	draining atomic.Bool // a drain goroutine sends what the channel had no room for
	spare    []letter    // the sent letters' slice, for the next ones; guarded by sending

	// Guarded by core.mu:
	state     procState
	running   map[uint64]*task
	given     int       // tasks given, for MaxTasks
	readyAt   time.Time // when it said it was ready; zero before
	idleSince int64     // when running last became empty (monoNow)
	why       error     // why the pool stopped it, or nil
	killed    bool      // stopped with a signal, not by closing its channel
	epoch     int       // core.failEpoch when it was launched
}

// idle returns how long pr has run no task; it is called with core.mu
// held.
func (pr *proc) idle() time.Duration { return time.Duration(monoNow() - pr.idleSince) }

// track and untrack add a task to pr's running ones and take it out;
// they are called with core.mu held.
func (pr *proc) track(t *task) {
	pr.running[t.id] = t
	pr.load.Add(1)
}

func (pr *proc) untrack(id uint64) {
	delete(pr.running, id)
	pr.load.Add(-1)
}

// launch starts a new worker after delay and serves it until it is
// gone. It is called with c.mu held.
func (c *core) launch(delay time.Duration) {
	pr := &proc{state: starting, epoch: c.failEpoch, running: map[uint64]*task{}, tail: &tail{next: c.stderr},
		baton: make(chan struct{}, 1), handed: make(chan struct{}), rouse: make(chan struct{}, 1)}
	c.procs = append(c.procs, pr)
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		if delay > 0 && !sleep(c.ctx, delay) {
			c.gone(pr, context.Cause(c.ctx))
			return
		}
		c.serveProc(pr)
	}()
}

// sleep waits d, or until ctx ends; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// serveProc starts pr's process, reads its messages until its channel
// ends, and sees it out. StartTimeout runs from the call of Start: a
// Start still under way when it passes has its context cancelled, and a
// worker started but not ready yet is stopped.
func (c *core) serveProc(pr *proc) {
	ctx, giveUp := context.WithCancelCause(c.ctx)
	defer giveUp(nil) // the worker is gone: its context may end
	notReady := time.AfterFunc(c.opts.StartTimeout, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if pr.state != starting {
			return
		}
		err := &startTimeoutError{c.opts.StartTimeout}
		if pr.child == nil {
			giveUp(err) // Start has not returned: what it starts yet is stopped once it does
		}
		c.stopLocked(pr, err, true)
	})
	child, err := c.start(ctx, c.childOptions(pr.tail))
	if err != nil {
		notReady.Stop()
		c.gone(pr, startFailure(ctx, err))
		return
	}
	c.mu.Lock()
	pr.child, pr.pid, pr.born = child, child.Pid(), time.Now()
	stopNow := pr.why != nil // Close came first
	c.mu.Unlock()
	if stopNow {
		c.stop(pr, pr.why, true)
	}
	err = c.read(pr)
	notReady.Stop()
	c.end(pr, err)
}

// A startTimeoutError is why a worker that was not ready within
// StartTimeout was given up.
type startTimeoutError struct{ d time.Duration }

func (e *startTimeoutError) Error() string {
	return fmt.Sprintf("pool: worker not ready within %v", e.d)
}

// startFailure is the error of a Start that failed: err, said to be
// the StartTimeout's doing when that ended ctx first.
func startFailure(ctx context.Context, err error) error {
	var timeout *startTimeoutError
	if errors.As(context.Cause(ctx), &timeout) && !errors.As(err, &timeout) {
		return fmt.Errorf("%w: Start: %w", timeout, err)
	}
	return err
}

// childOptions derives a worker's Options from Options.Child: its stderr
// goes through t, and fd 3 is the channel.
func (c *core) childOptions(t *tail) *childproc.Options {
	var o childproc.Options
	if c.opts.Child != nil {
		o = *c.opts.Child
	}
	stdio := make([]any, 4)
	copy(stdio, o.Stdio)
	if stdio[0] == nil {
		stdio[0] = childproc.Ignore
	}
	if stdio[1] == nil {
		stdio[1] = childproc.Inherit
	}
	stdio[2] = t
	stdio[3] = childproc.IPC
	o.Stdio = stdio
	o.Env = c.withGOMAXPROCS(o.Env)
	if o.WaitDelay == 0 {
		o.WaitDelay = exitGrace
	}
	return &o
}

// withGOMAXPROCS returns env (nil: the parent's) with GOMAXPROCS set to
// the worker's share of the CPUs, unless it is set already: Go workers
// then share the machine's cores instead of contending for all of
// them. Other runtimes ignore it.
func (c *core) withGOMAXPROCS(env []string) []string {
	if env == nil {
		env = os.Environ()
	}
	for _, kv := range env {
		if strings.HasPrefix(kv, "GOMAXPROCS=") {
			return env
		}
	}
	share := max(1, runtime.NumCPU()/c.opts.Size)
	return append(env[:len(env):len(env)], "GOMAXPROCS="+strconv.Itoa(share))
}

// stderrDest is where a worker's stderr is copied: Child.Stdio[2] when
// it is a writer, nowhere when it is Ignore, else the parent's stderr.
func stderrDest(o *childproc.Options) io.Writer {
	if o == nil || len(o.Stdio) < 3 || o.Stdio[2] == nil {
		return os.Stderr
	}
	switch s := o.Stdio[2].(type) {
	case io.Writer:
		return s
	case childproc.StdioMode:
		if s == childproc.Ignore {
			return nil
		}
	}
	return os.Stderr
}

// handle acts on one pool message from pr.
func (c *core) handle(pr *proc, m message) error {
	switch m.Pool {
	case kindReady:
		return c.ready(pr)
	case kindResult:
		return c.complete(pr, *m.ID, m.Value, nil)
	case kindError:
		return c.complete(pr, *m.ID, nil, &TaskError{Message: m.Error.Message, Name: m.Error.Name, Stack: m.Error.Stack})
	case kindRecycle:
		c.mu.Lock()
		if pr.given == 0 {
			// Its replacement would ask the same: a failed start, which
			// the next start follows only after the back-off.
			c.stopLocked(pr, fmt.Errorf("pool: the worker asked to be recycled before it was given a task: %s", m.Reason), false)
		} else {
			c.retire(pr, "worker asked: "+m.Reason)
		}
		c.unlock()
	default:
		return fmt.Errorf("%w: %q message from a worker", ErrProtocol, m.Pool)
	}
	return nil
}

// ready makes pr take tasks.
func (c *core) ready(pr *proc) error {
	c.mu.Lock()
	defer c.unlock()
	if pr.state != starting {
		if pr.state == stopping {
			return nil
		}
		return fmt.Errorf("%w: a second ready message", ErrProtocol)
	}
	pr.state, pr.readyAt, pr.idleSince = ready, time.Now(), monoNow()
	c.log.Info("pool: worker ready", "pid", pr.pid, "start", time.Since(pr.born))
	c.dispatch()
	c.notify()
	return nil
}

// stop stops pr: with kill, at once (Child.KillSignal, then SIGKILL
// after Child.ForceKillAfter); else by closing its channel, which a
// worker answers by exiting. why is nil for a stop on purpose
// (recycling, idleness, Shutdown).
func (c *core) stop(pr *proc, why error, kill bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopLocked(pr, why, kill)
}

func (c *core) stopLocked(pr *proc, why error, kill bool) {
	if pr.why == nil {
		pr.why = why
	}
	pr.killed = pr.killed || kill
	pr.state = stopping
	if pr.child == nil {
		return // serveProc stops it once Start returns
	}
	if kill {
		c.kill(pr)
	}
	// Disconnecting waits for the frames queued to the worker (up to
	// ipc's flush timeout when it does not read): not with c.mu held.
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		pr.child.Disconnect()
	}()
}

// kill stops pr's process from now: Child.KillSignal, then SIGKILL
// after Child.ForceKillAfter (to its tree with Child.KillTree), whether
// or not its channel has ended meanwhile.
func (c *core) kill(pr *proc) {
	if c.opts.Child != nil && c.opts.Child.KillTree {
		pr.child.KillTree(nil)
		return
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		pr.child.Stop(context.Background())
	}()
}

// end sees pr out once its channel has ended: it makes sure the process
// exits, reaps it and then lets the pool know it is gone.
func (c *core) end(pr *proc, readErr error) {
	if readErr != nil {
		c.stop(pr, readErr, true)
	}
	c.mu.Lock()
	killed := pr.killed
	c.mu.Unlock()
	if !killed && !exited(pr.child, exitGrace) {
		c.signal(pr, c.killSignal())
	}
	if force := c.forceKillAfter(); force >= 0 && !exited(pr.child, force) {
		c.signal(pr, syscall.SIGKILL)
	}
	if c.opts.Child != nil && c.opts.Child.KillTree {
		pr.child.KillTree(nil) // what the worker started goes with it
	}
	waitErr := pr.child.Wait()
	c.mu.Lock()
	why := pr.why
	c.mu.Unlock()
	if why == nil || errors.Is(why, errStopped) {
		why = waitErr
		if why == nil {
			why = errors.New("pool: worker exited")
		}
	}
	c.gone(pr, why)
}

// errStopped is the why of a worker stopped on purpose.
var errStopped = errors.New("pool: worker stopped")

// exited waits up to d for c to exit and reports whether it did.
func exited(c *childproc.Child, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-c.Exited():
		return true
	case <-t.C:
		return false
	}
}

// signal sends sig to pr's process, or to its tree with Child.KillTree.
func (c *core) signal(pr *proc, sig os.Signal) {
	if c.opts.Child != nil && c.opts.Child.KillTree {
		if sig == c.killSignal() {
			sig = nil // the core's stop: SIGKILL after ForceKillAfter to what is left of the tree
		}
		pr.child.KillTree(sig)
		return
	}
	pr.child.Kill(sig)
}

func (c *core) killSignal() os.Signal {
	if c.opts.Child != nil && c.opts.Child.KillSignal != nil {
		return c.opts.Child.KillSignal
	}
	return syscall.SIGTERM
}

func (c *core) forceKillAfter() time.Duration {
	if c.opts.Child == nil || c.opts.Child.ForceKillAfter == 0 {
		return childproc.DefaultForceKillAfter
	}
	return c.opts.Child.ForceKillAfter
}

// flush sends pr's letters in the order they were posted, unless
// another goroutine is sending them, and stops pr if it cannot take
// them. A goroutine that finds pr's letters being sent leaves its own to
// the sender, which looks again for letters once it has let go of
// sending: none is left behind. A cancel, say, never reaches the worker
// before its task. flush never waits for room in pr's channel: what the
// channel has no room for is left to a goroutine of pr's own (drain),
// so that no caller waits on a worker that does not read.
func (c *core) flush(pr *proc) {
	for pr.waiting() && pr.sending.TryLock() {
		full := c.send(pr, canceled)
		pr.sending.Unlock()
		if full {
			c.drain(pr)
			return
		}
	}
}

// drain sends pr's letters from a goroutine of its own, waiting for
// room in pr's channel as long as each letter's context allows, until
// none is left.
func (c *core) drain(pr *proc) {
	if !pr.draining.CompareAndSwap(false, true) {
		return // a drain runs, and looks again before it ends
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		for {
			pr.sending.Lock()
			c.send(pr, nil)
			pr.sending.Unlock()
			pr.draining.Store(false)
			if !pr.waiting() || !pr.draining.CompareAndSwap(false, true) {
				return
			}
		}
	}()
}

// send sends the letters waiting for pr, in order, until none is left.
// Each waits for room in pr's channel until its own context ends, or,
// with noRoom an ended context, not at all: send then puts back the
// letter the channel had no room for, with those after it, and reports
// true. pr's sending is held.
func (c *core) send(pr *proc, noRoom context.Context) (full bool) {
	for ls := pr.take(); len(ls) > 0; ls = pr.take() {
		for i := range ls {
			l := &ls[i]
			ctx := l.context()
			if noRoom != nil {
				ctx = noRoom
			}
			err := c.write(pr, l, ctx)
			switch {
			case err == nil:
				if l.task != nil {
					l.task.sentTo.Store(pr)
				}
				continue
			case l.gaveUp():
				c.unsend(pr, l.task)
				continue
			case noRoom != nil && errors.Is(err, noRoom.Err()):
				pr.putBack(ls[i:])
				return true
			}
			c.stop(pr, fmt.Errorf("pool: sending to the worker: %w", err), true)
			break // the worker is stopped: its tasks fail with it
		}
		clear(ls)
		pr.spare = ls[:0]
	}
	return false
}

// putBack puts letters not sent back before those posted since.
func (pr *proc) putBack(ls []letter) {
	pr.lmu.Lock()
	defer pr.lmu.Unlock()
	pr.letters = append(append([]letter(nil), ls...), pr.letters...)
}

// waiting reports whether letters wait to be sent to pr.
func (pr *proc) waiting() bool {
	pr.lmu.Lock()
	defer pr.lmu.Unlock()
	return len(pr.letters) > 0
}

// take returns the letters waiting for pr, for the goroutine that holds
// pr.sending.
func (pr *proc) take() []letter {
	pr.lmu.Lock()
	defer pr.lmu.Unlock()
	ls := pr.letters
	pr.letters, pr.spare = pr.spare, nil
	return ls
}

// write hands l's message, which the pool built, to pr's channel,
// waiting for room in it until ctx ends.
func (c *core) write(pr *proc, l *letter, ctx context.Context) error {
	ch, msg := pr.child.Channel(), (*jsontext.Text)(&l.msg)
	if l.batched {
		return ch.SendBatched(ctx, msg)
	}
	return ch.SendContext(ctx, msg)
}

// context bounds the wait for room in the channel to send l: a task's
// until its caller gives up, others' until the channel ends.
func (l *letter) context() context.Context {
	if l.task != nil {
		return l.task.ctx
	}
	return context.Background()
}

// gaveUp reports whether l was not sent because its context ended
// while the channel had no room.
func (l *letter) gaveUp() bool { return l.context().Err() != nil }
