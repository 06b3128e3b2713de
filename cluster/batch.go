package cluster

import (
	"context"
	"fmt"
	"iter"
	"sync"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/childproc/childproc/pool"
)

// A batch is the tasks of one batch name that a submitter waits for,
// with the consumer that brings their results.
type batch struct {
	s     *submitter
	name  string
	known map[uint64]bool // tasks submitted before (a resumed durable batch); not published again
	cc    jetstream.ConsumeContext

	mu      sync.Mutex
	next    uint64           // the index of the next task
	above   uint64           // above the highest index registered: results from there on are kept in early
	waiting map[uint64]*task // tasks registered and not yet answered
	early   map[uint64]result
	err     error // set once the batch has ended: the error of every later task

	publishing sync.WaitGroup // tasks registered whose publish has not been sent yet
}

// A task is one request waiting for its result.
type task struct {
	b       *batch
	index   uint64
	subject string
	value   []byte // the request
	done    chan struct{}
	res     result
}

// result is what a result message says: a response, or an error.
type result struct {
	value []byte
	err   error
}

func (t *task) id() string { return fmt.Sprintf("%s.%d", t.b.name, t.index) }

// openBatch starts collecting the results of batch name; known lists
// the tasks submitted before.
func (s *submitter) openBatch(ctx context.Context, name string, known map[uint64]bool) (*batch, error) {
	b := &batch{s: s, name: name, known: known, waiting: map[uint64]*task{}, early: map[uint64]result{}}
	s.mu.Lock()
	if s.state == closed {
		s.mu.Unlock()
		return nil, pool.ErrClosed
	}
	if _, ok := s.batches[name]; ok {
		s.mu.Unlock()
		return nil, fmt.Errorf("cluster: batch %s is being collected already", name)
	}
	s.batches[name] = b
	s.mu.Unlock()
	c, err := s.q.js.OrderedConsumer(ctx, resultsStream(s.q.name), jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{batchSubjects(s.q.name, "result", name)},
		DeliverPolicy:  jetstream.DeliverLastPerSubjectPolicy,
	})
	if err == nil {
		b.cc, err = c.Consume(b.take)
	}
	if err != nil {
		s.mu.Lock()
		delete(s.batches, name)
		s.mu.Unlock()
		return nil, fmt.Errorf("cluster: collecting the results of batch %s: %w", name, err)
	}
	return b, nil
}

// nextIndex returns the index of the batch's next task.
func (b *batch) nextIndex() uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	i := b.next
	b.next++
	return i
}

// submit registers the task of index i with request value and
// publishes it, unless it was submitted before.
func (b *batch) submit(ctx context.Context, i uint64, value []byte) (*task, error) {
	if limit := b.s.q.js.Conn().MaxPayload() - headroom; int64(len(value)) > limit {
		return nil, fmt.Errorf("%w: a request of %d bytes (the server takes %d)", ErrTooLarge, len(value), limit)
	}
	if err := b.s.acquire(ctx); err != nil {
		return nil, err
	}
	t := &task{b: b, index: i, subject: taskSubject(b.s.q.name, b.name, i), value: value, done: make(chan struct{})}
	b.mu.Lock()
	if b.err != nil {
		b.mu.Unlock()
		b.s.release()
		return nil, b.err
	}
	if r, ok := b.early[i]; ok {
		delete(b.early, i)
		b.above = max(b.above, i+1)
		b.mu.Unlock()
		t.resolve(r)
		return t, nil
	}
	b.waiting[i] = t
	b.above = max(b.above, i+1)
	b.publishing.Add(1)
	b.mu.Unlock()
	defer b.publishing.Done()
	if !b.known[i] {
		b.s.publish(t)
	}
	return t, nil
}

// waiter returns the task of index i if it waits for its result.
func (b *batch) waiter(i uint64) *task {
	if b == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.waiting[i]
}

// take is the result consumer's handler.
func (b *batch) take(m jetstream.Msg) {
	if _, i, ok := parseSubject(b.s.q.name, "result", m.Subject()); ok {
		b.deliver(i, m.Headers().Get(hdrError), m.Data())
	}
}

// deliver answers the task of index i with a result (an error of the
// given kind, unless ""), keeps it for a task not yet registered, and
// drops it for a task already answered.
func (b *batch) deliver(i uint64, kind string, data []byte) {
	r := result{value: data}
	if kind != "" {
		r = result{err: decodeError(fmt.Sprintf("%s.%d", b.name, i), kind, data)}
	}
	b.mu.Lock()
	t := b.waiting[i]
	switch {
	case t != nil:
		delete(b.waiting, i)
	case i >= b.above && b.early != nil:
		b.early[i] = r
	default:
		b.s.duplicates.Add(1)
	}
	b.mu.Unlock()
	if t != nil {
		t.resolve(r)
	}
}

// resolve gives t its result.
func (t *task) resolve(r result) {
	t.res = r
	t.b.s.count(r.err)
	t.b.s.release()
	close(t.done)
}

// await waits for t's result, or abandons t when ctx ends first.
func (b *batch) await(ctx context.Context, t *task) ([]byte, error) {
	select {
	case <-t.done:
		return t.res.value, t.res.err
	case <-ctx.Done():
		b.abandon(t)
		return nil, ctx.Err()
	}
}

// abandon stops waiting for t, as abandonAll does, but does the
// withdrawal in the background.
func (b *batch) abandon(t *task) {
	if mine := b.forsake([]*task{t}); len(mine) > 0 && b == b.s.mine {
		go b.s.withdraw(mine)
	}
}

// abandonAll stops waiting for the tasks ts. The tasks of the Pool's
// own batch are withdrawn before it returns: removed from the queue,
// and then cancelled on the workers that run them.
func (b *batch) abandonAll(ts []*task) {
	if mine := b.forsake(ts); len(mine) > 0 && b == b.s.mine {
		b.s.withdraw(mine)
	}
}

// forsake stops waiting for those of ts that still wait for their
// result, gives their tokens back and returns them.
func (b *batch) forsake(ts []*task) []*task {
	var left []*task
	b.mu.Lock()
	for _, t := range ts {
		if t != nil && b.waiting[t.index] == t {
			delete(b.waiting, t.index)
			left = append(left, t)
		}
	}
	b.mu.Unlock()
	for range left {
		b.s.release()
	}
	return left
}

// end stops the batch's consumer and fails its waiting tasks with err,
// once every task registered has been published; it returns the tasks
// that were waiting.
func (b *batch) end(err error) []*task {
	b.cc.Stop()
	b.mu.Lock()
	if b.err == nil {
		b.err = err
	}
	waiting := b.waiting
	b.waiting = map[uint64]*task{}
	b.early = nil
	b.mu.Unlock()
	b.publishing.Wait()
	ts := make([]*task, 0, len(waiting))
	for _, t := range waiting {
		t.resolve(result{err: err})
		ts = append(ts, t)
	}
	return ts
}

// closeDurable ends a MapBatch's batch.
func (b *batch) closeDurable() {
	b.end(pool.ErrClosed)
	b.s.mu.Lock()
	if b.s.batches[b.name] == b {
		delete(b.s.batches, b.name)
	}
	b.s.mu.Unlock()
}

// A pending task of Map: submitted, or failed before it could be.
type pending struct {
	t   *task
	err error
}

// mapResults runs Map and MapBatch over b: tasks in the order of
// reqs, at most MaxPending in flight, results yielded in that order as
// soon as they come, while reqs is read (in a goroutine of its own) as
// soon as its requests come.
func mapResults[Resp any](ctx context.Context, b *batch, reqs iter.Seq2[[]byte, error]) iter.Seq2[Resp, error] {
	return func(yield func(Resp, error) bool) {
		if b != b.s.mine {
			defer b.closeDurable()
		}
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		requests := readAhead(ctx, reqs)
		var inflight []pending
		defer func() { b.abandonAll(tasksOf(inflight)) }()
		for requests != nil || len(inflight) > 0 {
			if ctx.Err() != nil {
				// No task is submitted any more, and every one in flight
				// is withdrawn before the head's error is yielded.
				b.abandonAll(tasksOf(inflight))
				if len(inflight) > 0 {
					var zero Resp
					yield(zero, ctx.Err())
				}
				return
			}
			in := requests
			if len(inflight) >= b.s.o.MaxPending {
				in = nil
			}
			var head <-chan struct{}
			if len(inflight) > 0 {
				head = inflight[0].ready()
			}
			select {
			case r, ok := <-in:
				if !ok {
					requests = nil
					continue
				}
				if r.panicked != nil {
					panic(r.panicked)
				}
				inflight = append(inflight, b.submitPending(ctx, r.value, r.err))
				continue
			case <-head:
			case <-ctx.Done():
				continue
			}
			f := inflight[0]
			inflight = inflight[1:]
			resp, err := decodeResult[Resp](b.collect(ctx, f))
			if !yield(resp, err) || ctx.Err() != nil {
				return
			}
		}
	}
}

// tasksOf returns the tasks of fs that were submitted.
func tasksOf(fs []pending) []*task {
	ts := make([]*task, 0, len(fs))
	for _, f := range fs {
		if f.t != nil {
			ts = append(ts, f.t)
		}
	}
	return ts
}

// An encoded request of Map, or the error of its encoding, or the
// value of a panic of the input's iterator.
type encoded struct {
	value    []byte
	err      error
	panicked any
}

// readAhead reads reqs in a goroutine of its own and sends each of its
// requests on the channel it returns, which it closes at the end of
// reqs or once ctx has ended. A panic of reqs is sent too, for Map to
// panic with in its caller's goroutine.
func readAhead(ctx context.Context, reqs iter.Seq2[[]byte, error]) <-chan encoded {
	out := make(chan encoded)
	go func() {
		defer close(out)
		defer func() {
			if v := recover(); v != nil {
				select {
				case out <- encoded{panicked: v}:
				case <-ctx.Done():
				}
			}
		}()
		for value, err := range reqs {
			select {
			case out <- encoded{value: value, err: err}:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

// closedChan is ready at once, for pending tasks that failed before
// they were submitted.
var closedChan = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// ready returns a channel closed once f's result is there.
func (f pending) ready() <-chan struct{} {
	if f.t == nil {
		return closedChan
	}
	return f.t.done
}

// submitPending submits the next task of Map, whose request's encoding
// failed when err is not nil (the task keeps its index).
func (b *batch) submitPending(ctx context.Context, value []byte, err error) pending {
	i := b.nextIndex()
	if err != nil {
		return pending{err: err}
	}
	t, err := b.submit(ctx, i, value)
	return pending{t, err}
}

func (b *batch) collect(ctx context.Context, f pending) ([]byte, error) {
	if f.err != nil {
		return nil, f.err
	}
	return b.await(ctx, f.t)
}
