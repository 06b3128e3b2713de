package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/childproc/childproc/pool"
)

// Timings of a worker.
const (
	fetchWait   = 5 * time.Second        // a pull request's life while no task comes
	retryPause  = 250 * time.Millisecond // after a failed pull, before the next
	nakDelay    = 100 * time.Millisecond // before a task that failed for its worker's sake is delivered again
	resultRetry = 250 * time.Millisecond // between tries to store a result while the server is away
	gatherWait  = time.Millisecond       // for more free slots before a pull (see takeSlots)
	directWait  = 2 * time.Second        // for a submitter to confirm a result sent to it directly
)

// A worker runs the tasks of one pool with one handler.
type worker struct {
	q    *queue
	o    *Options
	h    handler
	free chan struct{} // a token per free slot
	wg   sync.WaitGroup

	mu      sync.Mutex
	held    map[jetstream.Msg]struct{}         // tasks delivered and not yet acked or given back
	running map[string]context.CancelCauseFunc // by task id: cancels a running task's handler
	// cancelled holds the cancellations of tasks that did not run here:
	// a task that was on its way to this worker is not run (see call).
	cancelled cancellations
}

// A worker remembers the cancellation of a task that it does not run
// for cancelMemory, far longer than a task fetched takes to reach call,
// and remembers at most maxRemembered of them: past that, the oldest
// is forgotten first, so that a flood of cancellations (on subjects
// that any client of the server may publish to) holds a few MiB of the
// worker at most.
const (
	cancelMemory  = time.Minute
	maxRemembered = 1 << 15
)

// A remembered is a cancellation as a worker remembers it.
type remembered struct {
	id string
	at time.Time
}

// cancellations are the cancellations a worker remembers: by task id,
// and in the order they came, oldest first.
type cancellations struct {
	at    map[string]time.Time
	order []remembered
}

// remember records the cancellation of task id, which came at now,
// forgetting the oldest one when maxRemembered are held.
func (c *cancellations) remember(id string, now time.Time) {
	if len(c.order) >= maxRemembered {
		c.dropOldest()
	}
	if c.at == nil {
		c.at = map[string]time.Time{}
	}
	c.at[id] = now
	c.order = append(c.order, remembered{id, now})
}

// take reports whether the cancellation of task id is remembered, and
// forgets it.
func (c *cancellations) take(id string) bool {
	_, ok := c.at[id]
	delete(c.at, id)
	return ok
}

// expire forgets the cancellations that came cancelMemory or longer
// before now.
func (c *cancellations) expire(now time.Time) {
	for len(c.order) > 0 && now.Sub(c.order[0].at) >= cancelMemory {
		c.dropOldest()
	}
}

// dropOldest forgets the oldest cancellation, unless a later one of the
// same task replaced it.
func (c *cancellations) dropOldest() {
	r := c.order[0]
	c.order[0] = remembered{}
	c.order = c.order[1:]
	if at, ok := c.at[r.id]; ok && at.Equal(r.at) {
		delete(c.at, r.id)
	}
}

// errCancelled is the cause of a task's context that its submitter
// gave up.
var errCancelled = errors.New("cluster: task cancelled by its submitter")

// errWithdrawn is the error of a task that its submitter cancelled
// while it was on its way to a worker, which did not run it.
var errWithdrawn = fmt.Errorf("%w before it started", errCancelled)

func serve(ctx context.Context, nc *nats.Conn, name string, o *Options, h handler) error {
	setup, cancel := withRequestTimeout(ctx)
	defer cancel()
	q, err := openQueue(setup, nc, name, o)
	if err != nil {
		return err
	}
	c, err := q.consumer(setup, o)
	if err != nil {
		return err
	}
	w := &worker{q: q, o: o, h: h, free: make(chan struct{}, o.Slots), held: map[jetstream.Msg]struct{}{}, running: map[string]context.CancelCauseFunc{}}
	for range o.Slots {
		w.free <- struct{}{}
	}
	sub, err := nc.Subscribe("childproc."+name+".cancel.>", w.cancel)
	if err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	defer sub.Unsubscribe()
	w.wg.Add(1)
	go w.heartbeat(ctx)
	w.pull(ctx, c)
	w.wg.Wait()
	nc.FlushTimeout(time.Second)
	return nil
}

// pull fetches as many tasks as there are free slots, and runs each
// as it comes, until ctx ends.
func (w *worker) pull(ctx context.Context, c jetstream.Consumer) {
	for {
		n, ok := w.takeSlots(ctx)
		if !ok {
			return
		}
		got := w.fetch(ctx, c, n)
		for range n - got {
			w.free <- struct{}{}
		}
	}
}

// takeSlots waits for a free slot and takes every free one; while fewer
// than half the slots are free, it waits up to gatherWait for more, so
// that a worker whose slots free up one by one still pulls its tasks
// in batches, not one request each.
func (w *worker) takeSlots(ctx context.Context) (int, bool) {
	select {
	case <-w.free:
	case <-ctx.Done():
		return 0, false
	}
	n := 1
	var gather <-chan time.Time
	for {
		select {
		case <-w.free:
			n++
			continue
		default:
		}
		if 2*n >= w.o.Slots {
			return n, true
		}
		if gather == nil {
			t := time.NewTimer(gatherWait)
			defer t.Stop()
			gather = t.C
		}
		select {
		case <-w.free:
			n++
		case <-gather:
			return n, true
		case <-ctx.Done():
			for range n {
				w.free <- struct{}{}
			}
			return 0, false
		}
	}
}

// fetch runs a pull request of n tasks and starts each task it brings;
// it returns how many it brought.
func (w *worker) fetch(ctx context.Context, c jetstream.Consumer, n int) int {
	fctx, cancel := context.WithTimeout(ctx, fetchWait)
	defer cancel()
	batch, err := c.Fetch(n, jetstream.FetchContext(fctx))
	if err != nil {
		if ctx.Err() == nil {
			w.o.Logger.Debug("cluster: pulling tasks failed", "err", err)
			sleep(ctx, retryPause)
		}
		return 0
	}
	got := 0
	for m := range batch.Messages() {
		got++
		w.hold(m)
		w.wg.Add(1)
		go w.run(ctx, m)
	}
	if err := batch.Error(); err != nil && ctx.Err() == nil && !errors.Is(err, nats.ErrTimeout) {
		w.o.Logger.Debug("cluster: a pull request ended", "err", err)
		if got == 0 {
			sleep(ctx, retryPause)
		}
	}
	return got
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

func (w *worker) hold(m jetstream.Msg) {
	w.mu.Lock()
	w.held[m] = struct{}{}
	w.mu.Unlock()
}

// letGo forgets m and frees its slot.
func (w *worker) letGo(m jetstream.Msg) {
	w.mu.Lock()
	delete(w.held, m)
	w.mu.Unlock()
	w.free <- struct{}{}
}

// heartbeat tells the server every AckWait/3 that the held tasks are
// in progress.
func (w *worker) heartbeat(ctx context.Context) {
	defer w.wg.Done()
	t := time.NewTicker(w.o.AckWait / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		w.mu.Lock()
		for m := range w.held {
			m.InProgress()
		}
		w.cancelled.expire(time.Now())
		w.mu.Unlock()
	}
}

// A delivery is one task as a worker received it.
type delivery struct {
	m          jetstream.Msg
	pool       string
	batch      string
	index      uint64
	id         string
	num        int // the delivery's number, from 1
	maxDeliver int
	retries    int
}

// run runs the task m, until its result is stored and m acked, or m
// is given back to the queue.
func (w *worker) run(ctx context.Context, m jetstream.Msg) {
	defer w.wg.Done()
	defer w.letGo(m)
	d, reason := w.parse(m)
	if reason != "" {
		w.o.Logger.Warn("cluster: terminating a message that is not a task", "subject", m.Subject(), "reason", reason)
		m.TermWithReason(reason)
		return
	}
	if d.num > 1 && w.answered(ctx, d) {
		m.Ack()
		return
	}
	if d.num > d.maxDeliver+d.retries {
		w.deadLetter(ctx, d, w.lastFailure(ctx, d))
		return
	}
	value, err := w.call(ctx, d)
	switch {
	case err == nil:
		w.finish(ctx, d, resultMsg(d, value))
	case errors.Is(err, errCancelled):
		m.TermWithReason(errCancelled.Error())
	case ctx.Err() != nil:
		m.Nak()
	case errors.Is(err, ErrBadTask):
		w.finish(ctx, d, errorMsg(d, err))
	case isTaskError(err):
		if d.num <= d.retries {
			w.again(ctx, d, err)
			return
		}
		w.finish(ctx, d, errorMsg(d, err))
	default:
		w.o.Logger.Info("cluster: a task failed on its worker", "task", d.id, "delivery", d.num, "err", err)
		if d.num >= d.maxDeliver+d.retries {
			kind, we := encodeError(err)
			w.deadLetter(ctx, d, &failure{kind, we})
			return
		}
		w.again(ctx, d, err)
	}
}

func isTaskError(err error) bool {
	var te *pool.TaskError
	return errors.As(err, &te)
}

// parse reads a task's delivery from m, or returns why m is no task.
func (w *worker) parse(m jetstream.Msg) (delivery, string) {
	if v := m.Headers().Get(hdrTask); v != protocol {
		if v == "" {
			return delivery{}, "not a childproc task: no " + hdrTask + " header"
		}
		return delivery{}, fmt.Sprintf("a childproc task of protocol %q, not %q", v, protocol)
	}
	batch, i, ok := parseSubject(w.q.name, "task", m.Subject())
	if !ok {
		return delivery{}, "not a childproc task: subject " + strconv.Quote(m.Subject()) + " is not childproc.POOL.task.BATCH.INDEX"
	}
	md, err := m.Metadata()
	if err != nil {
		return delivery{}, "no JetStream metadata: " + err.Error()
	}
	return delivery{
		m: m, pool: w.q.name, batch: batch, index: i, id: batch + "." + strconv.FormatUint(i, 10),
		num:        int(md.NumDelivered),
		maxDeliver: max(1, headerInt(m.Headers(), hdrMaxDeliver, DefaultMaxDeliver)),
		retries:    headerInt(m.Headers(), hdrRetries, 0),
	}, ""
}

// answered reports whether a result of d's task is stored already (a
// redelivery after a lost ack).
func (w *worker) answered(ctx context.Context, d delivery) bool {
	ctx, cancel := withRequestTimeout(ctx)
	defer cancel()
	_, err := w.q.results.GetLastMsgForSubject(ctx, resultSubject(w.q.name, d.batch, d.index))
	return err == nil
}

// call runs the handler on d's request, with the task's id in ctx,
// until it returns or its submitter cancels it (an error wrapping
// errCancelled then). A task whose cancellation came before call
// registered it as running is not run: its submitter withdrew it while
// it was on its way here (see the package doc).
func (w *worker) call(ctx context.Context, d delivery) ([]byte, error) {
	ctx, cancel := context.WithCancelCause(context.WithValue(ctx, taskIDKey{}, d.id))
	defer cancel(nil)
	w.mu.Lock()
	if w.cancelled.take(d.id) {
		w.mu.Unlock()
		return nil, errWithdrawn
	}
	w.running[d.id] = cancel
	w.mu.Unlock()
	defer func() {
		w.mu.Lock()
		delete(w.running, d.id)
		w.mu.Unlock()
	}()
	value, err := w.h(ctx, d.m.Data())
	if err != nil && errors.Is(context.Cause(ctx), errCancelled) {
		return nil, fmt.Errorf("%w: %w", errCancelled, err)
	}
	return value, err
}

// cancel is the handler of cancel messages: it cancels the task they
// name if it runs here, and remembers the cancellation otherwise.
func (w *worker) cancel(m *nats.Msg) {
	batch, i, ok := parseSubject(w.q.name, "cancel", m.Subject)
	if !ok {
		return
	}
	id := batch + "." + strconv.FormatUint(i, 10)
	w.mu.Lock()
	cancel := w.running[id]
	if cancel == nil {
		w.cancelled.remember(id, time.Now())
	}
	w.mu.Unlock()
	if cancel != nil {
		cancel(errCancelled)
	}
}

// finish hands d's result over and then acks d: straight to its
// submitter when the task says where (a Pool's own batch) and the
// submitter confirms it, else by storing it in the results stream. A
// result that cannot be handed over before ctx ends leaves d to be
// delivered again.
func (w *worker) finish(ctx context.Context, d delivery, m *nats.Msg) {
	// A task that ended as Serve stops is still handed over, for up to
	// AckWait more, rather than run again elsewhere.
	serving := ctx
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	stop := context.AfterFunc(serving, func() { time.AfterFunc(w.o.AckWait, cancel) })
	defer stop()
	if limit := w.q.js.Conn().MaxPayload() - headroom; int64(len(m.Data)) > limit {
		m = errorMsg(d, fmt.Errorf("%w: a response of %d bytes (the server takes %d)", ErrTooLarge, len(m.Data), limit))
	}
	if w.sendDirect(ctx, d, m) || w.store(ctx, m) {
		d.m.Ack()
	}
}

// sendDirect sends d's result m to its submitter's inbox, if the task
// names one, and reports whether the submitter confirmed it.
func (w *worker) sendDirect(ctx context.Context, d delivery, m *nats.Msg) bool {
	inbox := d.m.Headers().Get(hdrReply)
	if inbox == "" {
		return false
	}
	direct := nats.NewMsg(inbox)
	direct.Data = m.Data
	for k, v := range m.Header {
		direct.Header[k] = v
	}
	direct.Header.Set(hdrResult, m.Subject)
	ctx, cancel := context.WithTimeout(ctx, directWait)
	defer cancel()
	_, err := w.q.js.Conn().RequestMsgWithContext(ctx, direct)
	return err == nil
}

// store publishes m to the results stream and waits for the server to
// have stored it, trying again while the server is away.
func (w *worker) store(ctx context.Context, m *nats.Msg) bool {
	for {
		f, err := w.q.js.PublishMsgAsync(m, jetstream.WithMsgID(m.Subject))
		if err == nil {
			select {
			case <-f.Ok():
				return true
			case err = <-f.Err():
			case <-ctx.Done():
				return false
			case <-time.After(publishTimeout):
				err = errors.New("no acknowledgement")
			}
		}
		w.o.Logger.Debug("cluster: storing a result failed; trying again", "subject", m.Subject, "err", err)
		m = copyMsg(m)
		sleep(ctx, resultRetry)
		if ctx.Err() != nil {
			return false
		}
	}
}

// copyMsg returns a fresh copy of m, to publish again.
func copyMsg(m *nats.Msg) *nats.Msg {
	c := nats.NewMsg(m.Subject)
	c.Data = m.Data
	for k, v := range m.Header {
		c.Header[k] = v
	}
	return c
}

// A failure is a delivery's error as recorded for its dead letter.
type failure struct {
	kind string
	err  *wireError
}

// again records d's failure and gives d back to the queue, for a later
// delivery.
func (w *worker) again(ctx context.Context, d delivery, err error) {
	kind, we := encodeError(err)
	m := nats.NewMsg(subject(w.q.name, "failed", d.batch, d.index))
	m.Header.Set(hdrError, kind)
	m.Header.Set(nats.MsgIdHdr, m.Subject+"."+strconv.Itoa(d.num))
	m.Data, _ = json.Marshal(we)
	w.store(ctx, m)
	d.m.NakWithDelay(nakDelay * time.Duration(d.num))
}

// lastFailure returns the failure recorded by d's task's last failed
// delivery, or nil.
func (w *worker) lastFailure(ctx context.Context, d delivery) *failure {
	ctx, cancel := withRequestTimeout(ctx)
	defer cancel()
	raw, err := w.q.results.GetLastMsgForSubject(ctx, subject(w.q.name, "failed", d.batch, d.index))
	if err != nil {
		return nil
	}
	var we wireError
	if json.Unmarshal(raw.Data, &we) != nil {
		return nil
	}
	return &failure{raw.Header.Get(hdrError), &we}
}

// deadLetter moves d to the dead-letter subject with its last failure,
// stores its DeadLetterError as its result and terminates it.
func (w *worker) deadLetter(ctx context.Context, d delivery, last *failure) {
	dead := &wireError{Message: "dead-lettered", Deliveries: d.num}
	if last != nil {
		dead.Kind, dead.Last = last.kind, last.err
	}
	body, _ := json.Marshal(dead)
	letter := nats.NewMsg(subject(w.q.name, "dead", d.batch, d.index))
	letter.Data = d.m.Data()
	letter.Header.Set(hdrError, string(body))
	res := nats.NewMsg(resultSubject(w.q.name, d.batch, d.index))
	res.Header.Set(hdrError, kindDead)
	res.Data = body
	w.o.Logger.Warn("cluster: dead-lettering a task", "task", d.id, "deliveries", d.num)
	if w.store(ctx, letter) && w.store(ctx, res) {
		d.m.TermWithReason(fmt.Sprintf("dead-lettered after %d deliveries", d.num))
	}
}

// resultMsg returns the result message of d's response value.
func resultMsg(d delivery, value []byte) *nats.Msg {
	m := nats.NewMsg(resultSubject(d.pool, d.batch, d.index))
	m.Data = value
	return m
}

// errorMsg returns the result message of d's error.
func errorMsg(d delivery, err error) *nats.Msg {
	kind, we := encodeError(err)
	m := nats.NewMsg(resultSubject(d.pool, d.batch, d.index))
	m.Header.Set(hdrError, kind)
	m.Data, _ = json.Marshal(we)
	return m
}

// inProcess wraps fn so that its errors and panics are TaskErrors, as a
// local pool's Go worker reports them.
func inProcess[Req, Resp any](fn func(ctx context.Context, req Req) (Resp, error)) func(ctx context.Context, req Req) (Resp, error) {
	return func(ctx context.Context, req Req) (resp Resp, err error) {
		defer func() {
			if v := recover(); v != nil {
				err = &pool.TaskError{Message: fmt.Sprint(v), Name: "panic", Stack: string(debug.Stack())}
			}
		}()
		resp, err = fn(ctx, req)
		if err != nil && ctx.Err() == nil {
			err = &pool.TaskError{Message: err.Error(), Name: fmt.Sprintf("%T", err)}
		}
		return resp, err
	}
}
