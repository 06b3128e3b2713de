package pool

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/childproc/childproc/ipc"
)

// The life of one task: queued (or waiting for room in the queue),
// running on a worker, then finished once, with a result or an error.
// A task whose caller gave up is abandoned: it leaves the queue at
// once, or, when it runs, waits on its worker for an answer that
// nobody will read.

type taskState int

const (
	waiting   taskState = iota // in Do, for room in the queue
	queued                     // in the queue
	running                    // sent to a worker
	finished                   // done holds its outcome
	abandoned                  // its caller gave up
)

// A task is one request on its way through the pool.
type task struct {
	id    uint64
	ctx   context.Context    // its caller's: bounds the wait for room to send it
	msg   []byte             // the task message, request included, as sent to a worker (again on a retry)
	small [smallMessage]byte // holds msg when it is short
	done  chan struct{}      // closed once out holds the outcome
	out   outcome

	// Guarded by core.mu:
	state      taskState
	proc       *proc
	tries      int                                // runs that ended with the worker's death
	sentTo     atomic.Pointer[proc]               // the worker whose channel last took the task message
	stopRead   atomic.Pointer[context.CancelFunc] // ends the Recv of a caller reading for t (see readFor)
	prev, next *task
	submitted  int64         // monoNow
	sent       int64         // monoNow
	timer      *time.Timer   // TaskTimeout or CancelGrace
	room       chan struct{} // closed when a waiting task enters the queue
}

// An outcome is a task's result: the response's JSON, or an error.
type outcome struct {
	value []byte
	err   error
}

// taskList is a FIFO of tasks, linked through the tasks themselves.
type taskList struct {
	head, tail *task
	n          int
}

func (l *taskList) pushBack(t *task) {
	t.prev, t.next = l.tail, nil
	if l.tail != nil {
		l.tail.next = t
	} else {
		l.head = t
	}
	l.tail = t
	l.n++
}

func (l *taskList) pushFront(t *task) {
	t.prev, t.next = nil, l.head
	if l.head != nil {
		l.head.prev = t
	} else {
		l.tail = t
	}
	l.head = t
	l.n++
}

func (l *taskList) remove(t *task) {
	if t.prev != nil {
		t.prev.next = t.next
	} else {
		l.head = t.next
	}
	if t.next != nil {
		t.next.prev = t.prev
	} else {
		l.tail = t.prev
	}
	t.prev, t.next = nil, nil
	l.n--
}

func (l *taskList) popFront() *task {
	t := l.head
	if t != nil {
		l.remove(t)
	}
	return t
}

// newTask makes the task for req, encoded into its task message.
func (c *core) newTask(req any) (*task, error) {
	t := &task{id: c.ids.Add(1), done: make(chan struct{})}
	msg, err := appendValueMessage(t.small[:0], kindTask, t.id, req)
	if err != nil {
		c.refused()
		return nil, fmt.Errorf("pool: encoding the request: %w", err)
	}
	if limit := c.maxMessageSize(); len(msg)+1 > limit {
		c.refused()
		return nil, fmt.Errorf("pool: the request's task message is %d bytes, over the channel's MaxMessageSize (%d): %w", len(msg)+1, limit, ipc.ErrTooLarge)
	}
	t.msg = msg
	return t, nil
}

// maxMessageSize is the largest frame a worker's channel takes:
// Child.Channel's MaxMessageSize, or ipc's default, which a Go worker's
// own end reads with.
func (c *core) maxMessageSize() int {
	if o := c.opts.Child; o != nil && o.Channel != nil && o.Channel.MaxMessageSize > 0 {
		return o.Channel.MaxMessageSize
	}
	return ipc.DefaultMaxMessageSize
}

// submit hands t to the pool: once it returns nil, t is queued, or
// already running. It waits for room in the queue, until ctx ends.
func (c *core) submit(ctx context.Context, t *task) error {
	if err := ctx.Err(); err != nil {
		return err // a ctx already done starts nothing
	}
	t.ctx, t.submitted = ctx, monoNow()
	c.mu.Lock()
	if err := c.refuse(); err != nil {
		c.stats.Failed++
		c.mu.Unlock()
		return err
	}
	if c.queue.n == 0 && c.waiting.n == 0 {
		if pr := c.leastLoaded(); pr != nil {
			c.run(pr, t) // at once; its caller reads its answer (see await)
			c.unlock()
			return nil
		}
	}
	if c.queue.n < c.opts.MaxQueue && c.waiting.n == 0 {
		c.enqueue(t)
		c.unlock()
		return nil
	}
	if c.opts.FailWhenFull {
		c.stats.Failed++
		c.mu.Unlock()
		return ErrQueueFull
	}
	t.state, t.room = waiting, make(chan struct{})
	c.waiting.pushBack(t)
	c.mu.Unlock()
	select {
	case <-t.done: // ErrClosed, ErrCrashLoop
		return t.out.err
	case <-t.room:
		return nil
	case <-ctx.Done():
		if _, err := c.abandon(ctx, t); err != nil {
			return err
		}
		return nil // it entered the queue first; await has its outcome
	}
}

// undecodable counts as failed a task whose response Do could not
// decode: it was counted as done when its answer came.
func (c *core) undecodable() {
	c.mu.Lock()
	c.stats.Done--
	c.stats.Failed++
	c.mu.Unlock()
}

// refused counts a request refused before it became a task (it cannot
// be encoded, or is too large) as failed.
func (c *core) refused() {
	c.mu.Lock()
	c.stats.Failed++
	c.mu.Unlock()
}

// refuse returns the error of a task given to the pool in its state.
func (c *core) refuse() error {
	switch {
	case c.state != open:
		return ErrClosed
	case c.crashLooping():
		return c.crashErr()
	}
	return nil
}

// enqueue puts t in the queue and runs what can run.
func (c *core) enqueue(t *task) {
	t.state = queued
	c.queue.pushBack(t)
	c.dispatch()
	c.growIfShort()
}

// await waits for t's outcome, until ctx ends.
func (c *core) await(ctx context.Context, t *task) ([]byte, error) {
	if pr := c.batonFor(t); pr != nil {
		return c.readFor(ctx, pr, t)
	}
	if ctx.Done() == nil { // it never ends: a plain receive costs less than a select
		<-t.done
		return t.out.value, t.out.err
	}
	select {
	case <-t.done:
		return t.out.value, t.out.err
	case <-ctx.Done():
		return c.abandon(ctx, t)
	}
}

// abandon gives t up for its caller, whose ctx ended, and returns
// ctx's error; or t's outcome, when it came first.
func (c *core) abandon(ctx context.Context, t *task) ([]byte, error) {
	c.mu.Lock()
	defer c.unlock()
	switch t.state {
	case finished:
		return t.out.value, t.out.err
	case waiting:
		c.waiting.remove(t)
	case queued:
		c.queue.remove(t)
		c.dispatch()
	case running:
		c.cancelRunning(t)
	}
	t.state = abandoned
	c.notify()
	return nil, ctx.Err()
}

// cancelRunning tells t's worker that t's caller gave up, and stops the
// worker if it has not answered within CancelGrace.
func (c *core) cancelRunning(t *task) {
	pr := t.proc
	if t.timer != nil {
		t.timer.Stop()
	}
	t.timer = time.AfterFunc(c.opts.CancelGrace, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if pr.running[t.id] == t {
			c.stopLocked(pr, fmt.Errorf("pool: worker stopped: no answer to the cancel of task %d within %v", t.id, c.opts.CancelGrace), true)
		}
	})
	c.postLetter(pr, letter{msg: appendIDMessage(nil, kindCancel, t.id)})
}

// unsend takes back task t, whose message could not be sent to pr
// before its caller's ctx ended (pr's channel had no room): pr never got
// it, and its caller, whose ctx has ended, returns ctx's error (see
// abandon), as for a task dropped from the queue.
func (c *core) unsend(pr *proc, t *task) {
	c.mu.Lock()
	defer c.unlock()
	if pr.running[t.id] != t {
		return // pr is gone, and its tasks with it
	}
	pr.untrack(t.id)
	if len(pr.running) == 0 {
		pr.idleSince = monoNow()
	}
	if t.timer != nil {
		t.timer.Stop()
	}
	if t.state == running {
		t.state = abandoned
	}
	c.dispatch()
}

// dispatch sends queued tasks to the least loaded ready workers while
// any has room, and lets waiting tasks into the queue while it has
// room. It is called with c.mu held.
func (c *core) dispatch() {
	for {
		for c.queue.n > 0 {
			pr := c.leastLoaded()
			if pr == nil {
				break
			}
			c.run(pr, c.queue.popFront())
			pr.wake() // the task's caller waits for its outcome: the reader reads it
		}
		if !c.admit() {
			return
		}
	}
}

// admit moves waiting tasks into the queue while it has room, and
// reports whether it moved any.
func (c *core) admit() bool {
	moved := false
	for c.waiting.n > 0 && c.queue.n < c.opts.MaxQueue {
		t := c.waiting.popFront()
		t.state = queued
		c.queue.pushBack(t)
		close(t.room)
		moved = true
	}
	return moved
}

// leastLoaded returns the ready worker with the fewest tasks, if one
// has room for another and the pool runs fewer than Size × Concurrency
// tasks: the tasks that retiring workers finish count, so that a
// replacement takes the place of the worker it replaces only once that
// is done.
func (c *core) leastLoaded() *proc {
	var best *proc
	busy := 0
	for _, pr := range c.procs {
		busy += len(pr.running)
		if pr.state == ready && len(pr.running) < c.opts.Concurrency && (best == nil || len(pr.running) < len(best.running)) {
			best = pr
		}
	}
	if busy >= c.opts.Size*c.opts.Concurrency {
		return nil
	}
	return best
}

// run sends t to pr. It is called with c.mu held.
func (c *core) run(pr *proc, t *task) {
	t.state, t.proc, t.sent = running, pr, monoNow()
	c.waitTimes.add(time.Duration(t.sent - t.submitted))
	pr.track(t)
	pr.given++
	if d := c.opts.TaskTimeout; d > 0 {
		t.timer = time.AfterFunc(d, func() { c.timedOut(pr, t) })
	}
	// A worker that runs other tasks is kept busy by its answers to them
	// until t's message arrives: it goes out with the others that pile up.
	c.postLetter(pr, letter{msg: t.msg, batched: pr.load.Load() > 1, task: t})
	if c.opts.MaxTasks > 0 && pr.given >= c.opts.MaxTasks {
		c.retire(pr, fmt.Sprintf("MaxTasks (%d)", c.opts.MaxTasks))
	}
}

// timedOut fails t, which ran past TaskTimeout on pr, and stops pr.
func (c *core) timedOut(pr *proc, t *task) {
	c.mu.Lock()
	defer c.unlock()
	if pr.running[t.id] != t {
		return
	}
	pr.untrack(t.id)
	c.log.Warn("pool: task timed out; stopping its worker", "pid", pr.pid, "timeout", c.opts.TaskTimeout)
	c.finish(t, outcome{err: fmt.Errorf("%w after %v (worker %d stopped)", ErrTimeout, c.opts.TaskTimeout, pr.pid)})
	c.stopLocked(pr, fmt.Errorf("pool: worker stopped: task %d timed out", t.id), true)
}

// complete records pr's answer for task id.
func (c *core) complete(pr *proc, id uint64, value []byte, terr *TaskError) error {
	overMemory := c.overMemory(pr.child)
	c.mu.Lock()
	defer c.unlock()
	t := pr.running[id]
	if t == nil {
		if pr.state == stopping {
			return nil // a timed-out task's late answer, say
		}
		return fmt.Errorf("%w: an answer for task %d, which it is not running", ErrProtocol, id)
	}
	pr.untrack(id)
	c.streak, c.failedStarts, c.startErr = 0, 0, nil
	now := monoNow()
	c.runTimes.add(time.Duration(now - t.sent))
	if t.timer != nil {
		t.timer.Stop()
	}
	if len(pr.running) == 0 {
		pr.idleSince = now
	}
	if t.state == running {
		o := outcome{value: value}
		if terr != nil {
			o.err = terr
		}
		c.finish(t, o)
	}
	if overMemory {
		c.retire(pr, fmt.Sprintf("MaxMemory (%d bytes)", c.opts.MaxMemory))
	}
	c.afterTask(pr)
	return nil
}

// afterTask runs what pr's freed slot allows: the next queued task, or
// pr's stop once a retiring pr has no task left.
func (c *core) afterTask(pr *proc) {
	if pr.state == retiring && len(pr.running) == 0 {
		c.stopLocked(pr, errStopped, false)
	}
	c.dispatch()
	c.notify()
}

// finish delivers t's outcome; it is called once per task, with c.mu
// held.
func (c *core) finish(t *task, o outcome) {
	t.state = finished
	if o.err == nil {
		c.stats.Done++
	} else {
		c.stats.Failed++
	}
	t.out = o
	close(t.done)
	if stop := t.stopRead.Load(); stop != nil {
		(*stop)() // its caller reads the worker's channel: t came from elsewhere
	}
}
