package pool

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/childproc/childproc"
	"github.com/childproc/childproc/ipc"
)

// Pool runs tasks on a pool of worker processes. Its methods may be
// called from any goroutine.
type Pool[Req, Resp any] struct {
	c *core
}

// New starts opts.Size workers with w, all at once, and returns once
// every one of them is ready to serve (has sent its ready message).
// A worker that fails to start is tried again, with back-off; when no
// worker could start after a few tries (a missing script, a bad entry
// name, a worker that exits or throws at start), New returns the last
// start's error (a *WorkerError, with the worker's stderr, or the
// *childproc.Error of a spawn that failed). Bad Options are an error
// wrapping ErrBadOptions.
func New[Req, Resp any](w Worker[Req, Resp], opts *Options) (*Pool[Req, Resp], error) {
	if w.Start == nil {
		return nil, fmt.Errorf("%w: the Worker has no Start func", ErrBadOptions)
	}
	s, err := opts.settings()
	if err != nil {
		return nil, err
	}
	c, err := newCore(w.Start, s)
	if err != nil {
		return nil, err
	}
	return &Pool[Req, Resp]{c}, nil
}

// Do runs req on a worker and returns its response. It waits for room
// while MaxQueue tasks are queued (or fails with ErrQueueFull at once
// with FailWhenFull), then for a free worker, then for the answer.
//
// Errors: a *TaskError when the handler failed; a *WorkerError when the
// worker died or broke the protocol under the task (after Retries);
// ErrTimeout, ErrClosed, ErrCrashLoop; an error wrapping the JSON
// error when req or the response cannot be encoded or decoded, and one
// wrapping ipc.ErrTooLarge when req's task message is longer than the
// channel's MaxMessageSize (both before anything is sent, for req). When ctx ends first, Do returns ctx's
// error at once: a queued task is dropped, and a running one is
// cancelled in its worker (the handler's context ends), which is
// stopped and replaced if it does not answer within CancelGrace.
func (p *Pool[Req, Resp]) Do(ctx context.Context, req Req) (Resp, error) {
	var resp Resp
	t, err := p.c.newTask(req)
	if err != nil {
		return resp, err
	}
	if err := p.c.submit(ctx, t); err != nil {
		return resp, err
	}
	out, err := p.c.await(ctx, t)
	if err != nil {
		return resp, err
	}
	return p.decode(out)
}

// Map runs every request of reqs and yields the responses in the order
// of reqs, each with its error (as Do returns them), keeping a bounded
// number of tasks in flight: twice what the workers can run at once, or
// what they can run and the queue hold, if that is less (so that Map
// alone never fills a FailWhenFull queue). It takes requests from reqs
// until that many are in flight before it waits for the first
// response: an input that waits for Map's responses before it yields
// more never sees them (run Do from goroutines for that). Stopping the
// iteration early abandons the tasks still in flight, as a cancelled Do
// does.
func (p *Pool[Req, Resp]) Map(ctx context.Context, reqs iter.Seq[Req]) iter.Seq2[Resp, error] {
	return func(yield func(Resp, error) bool) {
		next, stop := iter.Pull(reqs)
		defer stop()
		slots := p.c.opts.Size * p.c.opts.Concurrency
		window := min(2*slots, slots+p.c.opts.MaxQueue)
		var inflight []pending
		defer func() {
			for _, f := range inflight {
				if f.t != nil {
					p.c.abandon(canceled, f.t)
				}
			}
		}()
		more := true
		for more || len(inflight) > 0 {
			for more && len(inflight) < window {
				var req Req
				if req, more = next(); more {
					inflight = append(inflight, p.c.submitReq(ctx, req))
				}
			}
			if len(inflight) == 0 {
				return
			}
			f := inflight[0]
			inflight = inflight[1:]
			resp, err := p.collect(ctx, f)
			if !yield(resp, err) || ctx.Err() != nil {
				return
			}
		}
	}
}

// canceled is an ended context: for abandoning tasks nobody waits for,
// and for a send that must not wait for room (see core.flush).
var canceled = func() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}()

// A pending task of Map: submitted, or failed before it could be.
type pending struct {
	t   *task
	err error
}

// submitReq encodes and submits req for Map.
func (c *core) submitReq(ctx context.Context, req any) pending {
	t, err := c.newTask(req)
	if err != nil {
		return pending{err: err}
	}
	if err := c.submit(ctx, t); err != nil {
		return pending{err: err}
	}
	c.unattended(t)
	return pending{t: t}
}

// unattended makes sure that t's answer is read though its caller does
// not wait for it yet (Map waits for its tasks in order): a task that
// runs at once is its caller's to read (see batonFor), and its worker's
// baton may lie unused, with the reader looking only maxIdleGrace apart.
// The answer would then hold its worker until the caller came for it.
func (c *core) unattended(t *task) {
	c.mu.Lock()
	pr := t.proc
	c.mu.Unlock()
	if pr != nil {
		pr.wake()
	}
}

// collect waits for f's response.
func (p *Pool[Req, Resp]) collect(ctx context.Context, f pending) (Resp, error) {
	var resp Resp
	if f.err != nil {
		return resp, f.err
	}
	out, err := p.c.await(ctx, f.t)
	if err != nil {
		return resp, err
	}
	return p.decode(out)
}

// decode decodes a task's response, counting the task as failed when
// it cannot be decoded.
func (p *Pool[Req, Resp]) decode(out []byte) (Resp, error) {
	var resp Resp
	if err := decodeResponse(out, &resp); err != nil {
		p.c.undecodable()
		return resp, err
	}
	return resp, nil
}

func decodeResponse(b []byte, resp any) error {
	if err := ipc.JSON.Unmarshal(b, resp); err != nil {
		return fmt.Errorf("pool: decoding the response: %w", err)
	}
	return nil
}

// Shutdown drains the pool: it takes no new tasks (Do returns
// ErrClosed, also to callers waiting for room in the queue), lets the
// queued and running tasks finish, then closes every worker's channel
// and waits for the workers to exit (one that has not exited a second
// later is stopped as Close stops it). It returns nil once everything
// drained; when ctx ends first it does what Close does and returns
// ctx's error. It returns ErrClosed when Close cut the drain short.
func (p *Pool[Req, Resp]) Shutdown(ctx context.Context) error { return p.c.shutdown(ctx) }

// Close stops the pool now: queued and running tasks fail with
// ErrClosed, and every worker is stopped with Child.KillSignal, then
// SIGKILL after Child.ForceKillAfter. It returns once every worker has
// been reaped. Close and Shutdown may be called more than once, in any
// order.
func (p *Pool[Req, Resp]) Close() error { return p.c.close() }

// Stats returns the pool's counts at this moment.
func (p *Pool[Req, Resp]) Stats() Stats { return p.c.statsNow() }

// Stats are a Pool's counts.
type Stats struct {
	// Workers counts workers ready or busy (not those starting or
	// stopping); Busy those running at least one task; Idle the rest.
	Workers, Busy, Idle int
	// Queued counts tasks not yet sent to a worker, those waiting for
	// room in the queue included.
	Queued int
	// Done counts the Do calls (and Map's tasks) that returned a
	// response; Failed those that returned any other error except their
	// caller's own cancellation, refusals (ErrQueueFull, ErrClosed,
	// ErrCrashLoop) and requests or responses that could not be encoded
	// or decoded included.
	Done, Failed int64
	// Restarts counts workers started to replace one that died or was
	// stopped (crash, timeout, missed cancel, failed start); Recycled
	// workers replaced on purpose (MaxTasks, MaxAge, MaxMemory, the
	// worker's request) or stopped for IdleTimeout.
	Restarts, Recycled int64
	// Wait is how long tasks waited between Do and their worker (queue
	// and room in it included); Run how long they ran there, until the
	// answer was read. Both count the tasks that reached a worker.
	Wait, Run Latency
}

// The pool's machinery, free of the request and response types.

// monoNow is the pool's clock for what it times per task: nanoseconds of
// the monotonic clock since a second before the package was initialised
// (never 0). It reads one clock where time.Now reads two.
func monoNow() int64 { return int64(time.Since(clockBase)) }

var clockBase = time.Now().Add(-time.Second)

type poolState int

const (
	open poolState = iota
	draining
	closed
)

// crashLoopAfter is how many starts in a row must fail (a worker that
// ends before it is given a task counts as one), with no worker ready,
// before tasks fail with ErrCrashLoop; backoffMax caps the wait
// between those starts.
const (
	crashLoopAfter = 3
	backoffFirst   = 50 * time.Millisecond
	backoffMax     = 5 * time.Second
)

type core struct {
	start  func(context.Context, *childproc.Options) (*childproc.Child, error)
	opts   Options
	log    *slog.Logger
	stderr io.Writer
	ctx    context.Context // the workers' Start context; ends with Close
	cancel context.CancelFunc
	ids    atomic.Uint64
	wg     sync.WaitGroup // every goroutine of the pool

	mu           sync.Mutex
	state        poolState
	cutShort     bool // Close failed tasks that Shutdown was draining
	procs        []*proc
	queue        taskList
	waiting      taskList
	failedStarts int   // starts in a row that failed, each launched after the one before had failed
	failEpoch    int   // failed starts counted so far: the epoch a launch is stamped with
	streak       int   // workers in a row that ended unasked with no task answered
	want         int   // workers the pool keeps ready or starting: Size, less those IdleTimeout stopped
	startErr     error // the last failed start's error
	stats        Stats
	waitTimes    histogram
	runTimes     histogram
	changed      chan struct{} // closed by notify, for waitFor
	dirty        []*proc       // workers with letters posted, to send once c.mu is released
}

// A letter is a message for a worker, sent by unlock: at once, or, when
// batched, by the channel's writer goroutine together with the messages
// that pile up meanwhile (see ipc.Channel.SendBatched).
type letter struct {
	msg     []byte
	batched bool
	task    *task // the task msg carries, if it is one
}

func newCore(start func(context.Context, *childproc.Options) (*childproc.Child, error), opts Options) (*core, error) {
	c := &core{start: start, opts: opts, log: opts.Logger, stderr: stderrDest(opts.Child)}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.mu.Lock()
	c.want = opts.Size
	c.fill(0)
	c.mu.Unlock()
	if opts.IdleTimeout > 0 || opts.MaxAge > 0 || opts.MaxMemory > 0 {
		c.wg.Add(1)
		go c.janitor()
	}
	c.waitFor(context.Background(), func() bool {
		return c.count(ready) == opts.Size || c.failedStarts >= crashLoopAfter
	})
	c.mu.Lock()
	err := c.startErr
	none := c.count(ready) == 0
	c.mu.Unlock()
	if none {
		c.close()
		return nil, err
	}
	return c, nil
}

// unlock releases c.mu and then sends the messages posted meanwhile,
// so that no Send waits for a socket while the pool is locked.
func (c *core) unlock() {
	var buf [4]*proc
	dirty := append(buf[:0], c.dirty...)
	clear(c.dirty)
	c.dirty = c.dirty[:0]
	c.mu.Unlock()
	for _, pr := range dirty {
		c.flush(pr)
	}
}

// postLetter queues l for pr; it is sent by unlock.
func (c *core) postLetter(pr *proc, l letter) {
	pr.lmu.Lock()
	pr.letters = append(pr.letters, l)
	pr.lmu.Unlock()
	if n := len(c.dirty); n == 0 || c.dirty[n-1] != pr {
		c.dirty = append(c.dirty, pr)
	}
}

// notify wakes the waitFor callers; it is called with c.mu held
// whenever workers or tasks change state.
func (c *core) notify() {
	if c.changed != nil {
		close(c.changed)
		c.changed = nil
	}
}

// waitFor waits until cond (called with c.mu held) holds, or ctx ends.
func (c *core) waitFor(ctx context.Context, cond func() bool) error {
	for {
		c.mu.Lock()
		if cond() {
			c.mu.Unlock()
			return nil
		}
		if c.changed == nil {
			c.changed = make(chan struct{})
		}
		ch := c.changed
		c.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// count returns how many workers are in state s.
func (c *core) count(s procState) int {
	n := 0
	for _, pr := range c.procs {
		if pr.state == s {
			n++
		}
	}
	return n
}

// crashLooping reports whether starts keep failing with no worker ready.
func (c *core) crashLooping() bool {
	return c.failedStarts >= crashLoopAfter && c.count(ready) == 0 && c.count(retiring) == 0
}

func (c *core) crashErr() error {
	return fmt.Errorf("%w (%d starts in a row failed; last: %w)", ErrCrashLoop, c.failedStarts, c.startErr)
}

// growIfShort raises the pool back towards Size when tasks wait and
// IdleTimeout had stopped workers.
func (c *core) growIfShort() {
	if c.queue.n > 0 && c.want < c.opts.Size {
		c.want++
		c.fill(0)
	}
}

// fill starts workers, after delay, until want are ready or starting.
// Workers retiring or stopping do not count: their replacements start
// at once, so that capacity never waits for a worker to go.
func (c *core) fill(delay time.Duration) {
	if c.state == closed {
		return
	}
	for n := c.count(ready) + c.count(starting); n < c.want; n++ {
		c.launch(delay)
	}
}

// retire stops giving pr tasks, starts its replacement and stops pr
// once its running tasks are done. It is called with c.mu held.
func (c *core) retire(pr *proc, reason string) {
	if pr.state != ready {
		return
	}
	pr.state = retiring
	c.stats.Recycled++
	c.log.Info("pool: recycling a worker", "pid", pr.pid, "reason", reason)
	c.fill(0)
	if len(pr.running) == 0 {
		c.stopLocked(pr, errStopped, false)
	}
}

// gone takes pr, whose process has ended (or never started, err then
// being why), out of the pool: its tasks are retried or failed, and
// a replacement starts unless pr was stopped on purpose.
func (c *core) gone(pr *proc, err error) {
	c.mu.Lock()
	defer c.unlock()
	for i, p := range c.procs {
		if p == pr {
			c.procs = append(c.procs[:i], c.procs[i+1:]...)
			break
		}
	}
	werr := &WorkerError{Pid: pr.pid, Err: err, Stderr: pr.tail.bytes()}
	if pr.child == nil {
		werr = nil // Start failed: its error is the *childproc.Error itself
	}
	c.failTasks(pr, werr, err)
	onPurpose := errors.Is(pr.why, errStopped) || c.state == closed
	switch {
	case onPurpose:
		c.log.Info("pool: worker stopped", "pid", pr.pid)
	case pr.readyAt.IsZero() || pr.given == 0:
		// Not started, or gone before it was given a task: a failed start.
		// It counts towards ErrCrashLoop only when it was launched after
		// the last one that counted had failed: starts that were under
		// way together and failed at one moment (all killed at once, say)
		// are one failure, and a crash loop is a start failing again
		// after a failure.
		if pr.epoch == c.failEpoch {
			c.failedStarts++
			c.failEpoch++
		}
		c.startErr = werrOr(werr, err)
		c.log.Warn("pool: worker failed to start", "pid", pr.pid, "err", err, "failedStarts", c.failedStarts)
	default:
		c.log.Warn("pool: worker died", "pid", pr.pid, "err", err)
	}
	if !onPurpose {
		c.streak++
		c.stats.Restarts++
	}
	c.fill(c.backoff())
	if c.crashLooping() {
		c.failQueued(c.crashErr())
	}
	c.dispatch()
	c.notify()
}

func werrOr(w *WorkerError, err error) error {
	if w != nil {
		return w
	}
	return err
}

// backoff is the wait before a replacement starts: none after the
// first worker that ended with no task answered since the last one
// that did, then doubling from backoffFirst up to backoffMax, so that
// workers that die at once never restart in a hot loop.
func (c *core) backoff() time.Duration {
	if c.streak <= 1 {
		return 0
	}
	return min(backoffFirst<<min(c.streak-2, 16), backoffMax)
}

// failTasks retries or fails the tasks pr was running when it ended.
func (c *core) failTasks(pr *proc, werr *WorkerError, err error) {
	for id, t := range pr.running {
		pr.untrack(id)
		if t.timer != nil {
			t.timer.Stop()
		}
		if t.state != running {
			continue // abandoned
		}
		if unsent := t.sentTo.Load() != pr; (unsent || t.tries < c.opts.Retries) && c.state != closed {
			if !unsent {
				t.tries++ // a run that never reached the worker is no try
			}
			t.state = queued
			c.queue.pushFront(t)
			continue
		}
		c.finish(t, outcome{err: werrOr(werr, err)})
	}
}

// failQueued fails every queued and waiting task with err.
func (c *core) failQueued(err error) {
	for _, l := range []*taskList{&c.queue, &c.waiting} {
		for t := l.popFront(); t != nil; t = l.popFront() {
			c.finish(t, outcome{err: err})
		}
	}
}

// janitor recycles workers past MaxAge or MaxMemory and stops those
// idle past IdleTimeout, checking a few times per period.
func (c *core) janitor() {
	defer c.wg.Done()
	tick := time.Second
	for _, d := range []time.Duration{c.opts.IdleTimeout / 4, c.opts.MaxAge / 4} {
		if d > 0 {
			tick = min(tick, max(d, 10*time.Millisecond))
		}
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case now := <-t.C:
			c.tidy(now)
		}
	}
}

// tidy is one round of the janitor.
func (c *core) tidy(now time.Time) {
	over := c.workersOverMemory()
	c.mu.Lock()
	defer c.unlock()
	live := c.count(ready) + c.count(starting)
	for _, pr := range c.procs {
		if pr.state != ready {
			continue
		}
		switch {
		case c.opts.MaxAge > 0 && now.Sub(pr.born) > c.opts.MaxAge:
			c.retire(pr, fmt.Sprintf("MaxAge (%v)", c.opts.MaxAge))
		case over[pr]:
			c.retire(pr, fmt.Sprintf("MaxMemory (%d bytes)", c.opts.MaxMemory))
		case c.opts.IdleTimeout > 0 && len(pr.running) == 0 && pr.idle() > c.opts.IdleTimeout && live > c.opts.MinSize:
			live--
			c.want--
			c.stats.Recycled++
			c.log.Info("pool: stopping an idle worker", "pid", pr.pid, "idle", pr.idle())
			c.stopLocked(pr, errStopped, false)
		}
	}
}

// workersOverMemory returns the ready workers whose resident memory is
// over MaxMemory.
func (c *core) workersOverMemory() map[*proc]bool {
	if c.opts.MaxMemory <= 0 {
		return nil
	}
	c.mu.Lock()
	children := map[*proc]*childproc.Child{}
	for _, pr := range c.procs {
		if pr.state == ready {
			children[pr] = pr.child
		}
	}
	c.mu.Unlock()
	over := map[*proc]bool{}
	for pr, child := range children {
		over[pr] = c.overMemory(child)
	}
	return over
}

// overMemory reports whether child's resident memory, read with
// [childproc.Child.RSS], is over MaxMemory; a child it cannot read (one
// that has just exited, or any outside Linux) is not.
func (c *core) overMemory(child *childproc.Child) bool {
	if c.opts.MaxMemory <= 0 {
		return false
	}
	n, err := child.RSS()
	return err == nil && n > c.opts.MaxMemory
}

func (c *core) statsNow() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats
	for _, pr := range c.procs {
		if pr.state == ready || pr.state == retiring {
			s.Workers++
			if len(pr.running) > 0 {
				s.Busy++
			}
		}
	}
	s.Idle = s.Workers - s.Busy
	s.Queued = c.queue.n + c.waiting.n
	s.Wait, s.Run = c.waitTimes.latency(), c.runTimes.latency()
	return s
}

func (c *core) shutdown(ctx context.Context) error {
	c.mu.Lock()
	found := c.state
	if c.state == open {
		c.state = draining
		c.failWaiting(ErrClosed)
	}
	c.mu.Unlock()
	if found == closed {
		c.cancelWhenGone()
		return nil
	}
	err := c.waitFor(ctx, func() bool {
		return c.state == closed || (c.queue.n == 0 && c.busy() == 0)
	})
	if err != nil {
		c.close()
		return err
	}
	c.mu.Lock()
	cut := c.cutShort
	if c.state != closed {
		c.state = closed
		for _, pr := range c.procs {
			c.stopLocked(pr, errStopped, false)
		}
	}
	c.mu.Unlock()
	c.cancelWhenGone()
	if cut {
		return ErrClosed
	}
	return nil
}

// busy counts the tasks running on workers, abandoned ones included.
func (c *core) busy() int {
	n := 0
	for _, pr := range c.procs {
		n += len(pr.running)
	}
	return n
}

// failWaiting fails the tasks waiting for room in the queue.
func (c *core) failWaiting(err error) {
	for t := c.waiting.popFront(); t != nil; t = c.waiting.popFront() {
		c.finish(t, outcome{err: err})
	}
}

func (c *core) close() error {
	c.mu.Lock()
	if c.state != closed {
		c.cutShort = c.state == draining && (c.queue.n > 0 || c.busy() > 0)
		c.state = closed
		c.failQueued(ErrClosed)
		for _, pr := range c.procs {
			c.failTasks(pr, nil, ErrClosed) // no retries once closed
			c.stopLocked(pr, errStopped, true)
		}
		c.notify()
	}
	c.mu.Unlock()
	c.cancelWhenGone()
	return nil
}

// cancelWhenGone waits for every worker to be gone, ending the Start
// context of those still starting, and for every goroutine.
func (c *core) cancelWhenGone() {
	c.waitFor(context.Background(), func() bool {
		for _, pr := range c.procs {
			if pr.child != nil {
				return false
			}
		}
		return true
	})
	c.cancel()
	c.wg.Wait()
}
