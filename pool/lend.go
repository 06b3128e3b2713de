package pool

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/childproc/childproc/ipc"
)

// Reading a worker's channel. Whoever holds the worker's baton reads its
// channel: its reader goroutine (read) most of the time, but for a lone
// task, the only one its worker runs, the caller waiting for it. That
// caller's Recv then follows its own Send and tries the socket before it
// parks (see ipc's Latency section), and no parked goroutine has to be
// woken to hand the answer over. While the worker runs no task, the
// reader waits in a way such a caller can cut short (kick), then hands
// it the baton. A caller that is done gives the baton back. The reader
// takes it again at once when the worker runs other tasks, and else
// once it has lain unused for idleGrace: a caller running one task after
// another keeps reading for itself. The reader looks on a timer, ever
// less often up to maxIdleGrace while callers keep taking the baton, so
// that they cost it no wake-up per task (each would cost the callers'
// round trips more than the pool's own work).

// idleGrace is how long the baton must lie unused before the reader
// takes it back, and how long it first waits to look; maxIdleGrace
// bounds its wait between looks.
const (
	idleGrace    = time.Millisecond
	maxIdleGrace = 32 * time.Millisecond
)

// errKicked ends a wait of recv that a caller cut short to read itself.
var errKicked = errors.New("pool: a caller reads")

// read handles pr's messages until its channel ends, and returns why it
// ended: a protocol error, or nil for the channel's end.
func (c *core) read(pr *proc) error {
	ch := pr.child.Channel()
	for {
		msg, err, lend := c.recv(pr, ch)
		var end error
		if !errors.Is(err, errKicked) {
			end = c.take(pr, msg, err)
		}
		if lend {
			if end != nil {
				// The caller would wait on a channel that is done with:
				// close it, so that its Recv ends at once.
				c.stop(pr, end, true)
			}
			pr.lent.Store(true)
			pr.handed <- struct{}{}
			back := c.retake(pr)
			pr.lent.Store(false)
			if end == nil {
				end = back
			}
		}
		if end != nil {
			return endOf(end)
		}
	}
}

// retake waits until the callers are done with the baton and takes it
// back; it returns the error that ended the channel while a caller read.
func (c *core) retake(pr *proc) error {
	wait := idleGrace
	t := time.NewTimer(wait)
	defer t.Stop()
	for {
		gone := false
		select {
		case <-pr.rouse:
		case <-t.C:
		case <-pr.child.Channel().Disconnected():
			gone = true
		}
		if gone || pr.ended.Load() {
			<-pr.baton // a caller reading sees the end too, and gives it back
			return c.ended(pr)
		}
		if c.takeBaton(pr) {
			return nil
		}
		wait = min(2*wait, maxIdleGrace) // callers keep taking it
		t.Reset(wait)
	}
}

// takeBaton takes pr's baton for the reader if it is there and either
// pr runs tasks or no caller has given it back for idleGrace.
func (c *core) takeBaton(pr *proc) bool {
	if pr.load.Load() == 0 && time.Duration(monoNow()-pr.backAt.Load()) < idleGrace {
		return false
	}
	select {
	case <-pr.baton:
		return true
	default: // a caller has it
		return false
	}
}

// ended returns the error that ended pr's channel while a caller read,
// or nil.
func (c *core) ended(pr *proc) error {
	if pr.ended.Load() {
		return pr.endErr
	}
	return nil
}

// giveBack returns the baton after reading for a task; err is what
// ended the channel, if it ended. It rouses the reader only when the
// worker runs other tasks, whose answers must not wait for the reader's
// next look, or when the channel ended.
func (c *core) giveBack(pr *proc, err error) {
	if err != nil {
		pr.endErr = err
		pr.ended.Store(true)
	}
	pr.backAt.Store(monoNow())
	pr.baton <- struct{}{}
	if err != nil || pr.load.Load() > 0 { // load is read after the baton is back: see batonFor
		pr.wake()
	}
}

// wake makes pr's reader look at once whether it should take the baton
// back: a task runs that no caller reads for, or the channel ended. A
// reader that has not lent the baton reads anyway.
func (pr *proc) wake() {
	if !pr.lent.Load() {
		return
	}
	select {
	case pr.rouse <- struct{}{}:
	default: // it will look anyway
	}
}

// endOf is read's result for the error that ended the channel: nil for
// its end.
func endOf(err error) error {
	if errors.Is(err, io.EOF) {
		return nil
	}
	return err
}

// recv receives pr's next message. While pr runs no task, the caller of
// the next task may kick it: recv then reports lend, with the message
// that came first or with errKicked.
func (c *core) recv(pr *proc, ch *ipc.Channel) (msg ipc.Message, err error, lend bool) {
	if pr.load.Load() > 0 {
		msg, err = ch.Recv(context.Background())
		return msg, err, false
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	kick := context.CancelFunc(func() { cancel(errKicked) })
	pr.kick.Store(&kick)
	if pr.load.Load() > 0 && pr.kick.CompareAndSwap(&kick, nil) {
		msg, err = ch.Recv(context.Background()) // a task came, and its caller did not kick
		return msg, err, false
	}
	msg, err = ch.Recv(ctx)
	lend = !pr.kick.CompareAndSwap(&kick, nil) // a caller took the kick
	if err != nil && context.Cause(ctx) == errKicked {
		err = errKicked
	}
	return msg, err, lend
}

// take handles one result of Recv: a message, or the error that ended
// the channel (io.EOF for its end). It returns an error when the channel
// is done with: its end, or a protocol error.
func (c *core) take(pr *proc, msg ipc.Message, err error) error {
	if errors.Is(err, io.EOF) {
		return err
	}
	if err != nil {
		return fmt.Errorf("%w: %v", ErrProtocol, err)
	}
	m, ok, err := parseMessage(msg.Bytes())
	if err != nil {
		return err
	}
	if !ok {
		return nil
	}
	return c.handle(pr, m)
}

// batonFor returns t's worker with its baton taken, when t is a lone
// task (the only one its worker runs, in a pool that runs no more tasks
// than it has workers) and the baton could be had; else nil, and t's
// answer is read by whoever holds the baton: a caller that gives it
// back with t still running rouses the reader (giveBack), and so does
// this caller when the baton lies unused, a queued task's start
// (core.dispatch), and Map's submit of a task it waits for later
// (core.unattended). In a busy pool the reader reads for everyone: a
// caller that took the baton there would only make the reader wait and
// then wake to take it back.
func (c *core) batonFor(t *task) *proc {
	c.mu.Lock()
	pr, state, lone := t.proc, t.state, c.busy() <= len(c.procs)
	c.mu.Unlock()
	if pr == nil || state != running || pr.ended.Load() {
		return nil
	}
	if !lone || pr.load.Load() != 1 {
		pr.wake()
		return nil
	}
	select {
	case <-pr.baton:
		return pr
	default:
	}
	kick := pr.kick.Swap(nil)
	if kick == nil {
		return nil // the reader reads, or a caller does who gives it back rousing the reader
	}
	(*kick)()
	<-pr.handed
	return pr
}

// readFor reads pr's channel, holding its baton, until t is done and no
// other task of pr's waits for an answer, or until ctx ends; then it
// gives the baton back. A t finished by other means than its answer
// (its TaskTimeout, its worker's stop) ends the read at once.
func (c *core) readFor(ctx context.Context, pr *proc, t *task) ([]byte, error) {
	ch := pr.child.Channel()
	rctx, stop := context.WithCancel(ctx)
	defer stop()
	t.stopRead.Store(&stop)
	defer t.stopRead.Store(nil)
	for {
		select {
		case <-t.done:
			c.giveBack(pr, nil)
			return t.out.value, t.out.err
		default:
		}
		msg, err := ch.Recv(rctx)
		if err != nil && rctx.Err() != nil {
			c.giveBack(pr, nil)
			if ctx.Err() == nil { // finish ended the read: t is done
				return t.out.value, t.out.err
			}
			return c.abandon(ctx, t)
		}
		if err := c.take(pr, msg, err); err != nil {
			c.giveBack(pr, err) // read sees the channel out; t's outcome follows
			break
		}
	}
	return c.await(ctx, t)
}
