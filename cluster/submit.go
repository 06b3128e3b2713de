package cluster

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"

	"github.com/childproc/childproc/pool"
)

// Timings of the submitter.
const (
	publishTimeout = 5 * time.Second        // an async publish not acknowledged by then is sent again
	republishWait  = 250 * time.Millisecond // before a publish that failed is sent again
	requestTimeout = 10 * time.Second       // of the JetStream API requests that have no deadline
)

type poolState int

const (
	open poolState = iota
	draining
	closed
)

// The submitter is a Pool's machinery, free of its types.
type submitter struct {
	q     *queue
	o     Options
	room  chan struct{} // a token per pending task, MaxPending at most
	mine  *batch        // the batch of Do and Map
	inbox string        // where workers send the results of mine directly
	sub   *nats.Subscription
	ended chan struct{} // closed when the state becomes closed

	mu      sync.Mutex
	state   poolState
	batches map[string]*batch
	drained chan struct{} // closed when nothing is pending while draining

	pending                  atomic.Int64
	done, failed, duplicates atomic.Int64
}

func newSubmitter(nc *nats.Conn, name string, opts *Options) (*submitter, error) {
	o, err := opts.settings()
	if err != nil {
		return nil, err
	}
	s := &submitter{o: o, room: make(chan struct{}, o.MaxPending), ended: make(chan struct{}), batches: map[string]*batch{}}
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	s.q, err = openQueue(ctx, nc, name, &s.o,
		jetstream.WithPublishAsyncErrHandler(s.republish),
		jetstream.WithPublishAsyncTimeout(publishTimeout),
		jetstream.WithPublishAsyncMaxPending(o.MaxPending),
	)
	if err != nil {
		return nil, err
	}
	s.mine, err = s.openBatch(ctx, "p"+nuid.Next(), nil)
	if err != nil {
		return nil, err
	}
	s.inbox = nc.NewInbox()
	if s.sub, err = nc.Subscribe(s.inbox, s.direct); err != nil {
		s.close()
		return nil, fmt.Errorf("cluster: %w", err)
	}
	return s, nil
}

// submit registers the next task of the Pool's own batch and publishes
// it.
func (s *submitter) submit(ctx context.Context, value []byte) (*task, error) {
	return s.mine.submit(ctx, s.mine.nextIndex(), value)
}

// await waits for t's result, or abandons t when ctx ends first.
func (s *submitter) await(ctx context.Context, t *task) ([]byte, error) {
	return t.b.await(ctx, t)
}

func (s *submitter) own() *batch { return s.mine }

// durable opens the durable batch named name for MapBatch.
func (s *submitter) durable(ctx context.Context, name string) (*batch, error) {
	if err := checkName("batch name", name); err != nil {
		return nil, err
	}
	ctx, cancel := withRequestTimeout(ctx)
	defer cancel()
	known, err := s.known(ctx, name)
	if err != nil {
		return nil, err
	}
	return s.openBatch(ctx, name, known)
}

// known returns the indexes of batch that were submitted: those
// queued, then those with a result. A task leaves the queue only after
// its result is stored, so in that order no task is missed.
func (s *submitter) known(ctx context.Context, batch string) (map[uint64]bool, error) {
	queued, err := s.q.indexes(ctx, s.q.tasks, "task", batch)
	if err != nil {
		return nil, err
	}
	done, err := s.q.indexes(ctx, s.q.results, "result", batch)
	if err != nil {
		return nil, err
	}
	for i := range done {
		queued[i] = true
	}
	return queued, nil
}

func (s *submitter) batchState(ctx context.Context, name string) (BatchState, error) {
	if err := checkName("batch name", name); err != nil {
		return BatchState{}, err
	}
	ctx, cancel := withRequestTimeout(ctx)
	defer cancel()
	queued, err := s.q.indexes(ctx, s.q.tasks, "task", name)
	if err != nil {
		return BatchState{}, err
	}
	done, err := s.q.indexes(ctx, s.q.results, "result", name)
	if err != nil {
		return BatchState{}, err
	}
	for i := range done {
		delete(queued, i)
	}
	return BatchState{Done: sorted(done), Queued: sorted(queued)}, nil
}

func (s *submitter) deleteBatch(ctx context.Context, name string) error {
	if err := checkName("batch name", name); err != nil {
		return err
	}
	ctx, cancel := withRequestTimeout(ctx)
	defer cancel()
	if err := s.q.purgeBatch(ctx, s.q.tasks, "task", name); err != nil {
		return err
	}
	for _, kind := range []string{"result", "failed", "dead"} {
		if err := s.q.purgeBatch(ctx, s.q.results, kind, name); err != nil {
			return err
		}
	}
	return nil
}

// withRequestTimeout bounds ctx by requestTimeout unless it has a
// deadline.
func withRequestTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, requestTimeout)
}

// direct takes a result that a worker sent straight to this Pool, and
// confirms it: the worker then need not store it.
func (s *submitter) direct(m *nats.Msg) {
	batch, i, ok := parseSubject(s.q.name, "result", m.Header.Get(hdrResult))
	if !ok || batch != s.mine.name {
		return
	}
	s.mine.deliver(i, m.Header.Get(hdrError), m.Data)
	m.Respond(nil)
}

// publish sends t's message; republish sends it again when the
// server did not acknowledge it.
func (s *submitter) publish(t *task) {
	m := newTaskMsg(t.subject, t.value, &s.o)
	if t.b == s.mine {
		m.Header.Set(hdrReply, s.inbox)
	}
	_, err := s.q.js.PublishMsgAsync(m, jetstream.WithMsgID(t.subject))
	if err != nil {
		s.o.Logger.Warn("cluster: publishing a task failed; trying again", "task", t.id(), "err", err)
		s.retryLater(t)
	}
}

func (s *submitter) republish(_ jetstream.JetStream, m *nats.Msg, err error) {
	batch, i, ok := parseSubject(s.q.name, "task", m.Subject)
	if !ok {
		return
	}
	s.mu.Lock()
	b := s.batches[batch]
	s.mu.Unlock()
	if t := b.waiter(i); t != nil {
		s.o.Logger.Info("cluster: a task's publish was not acknowledged; sending it again", "task", t.id(), "err", err)
		s.retryLater(t)
	}
}

// retryLater publishes t again after republishWait, if it still waits
// for its result.
func (s *submitter) retryLater(t *task) {
	time.AfterFunc(republishWait, func() {
		if t.b.waiter(t.index) == t && !s.isClosed() {
			s.publish(t)
		}
	})
}

func (s *submitter) isClosed() bool {
	select {
	case <-s.ended:
		return true
	default:
		return false
	}
}

// acquire takes a pending task's token, waiting for room.
func (s *submitter) acquire(ctx context.Context) error {
	s.mu.Lock()
	state := s.state
	s.mu.Unlock()
	if state != open {
		return pool.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case s.room <- struct{}{}:
		s.pending.Add(1)
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-s.ended:
		return pool.ErrClosed
	}
}

// release gives a pending task's token back.
func (s *submitter) release() {
	<-s.room
	if s.pending.Add(-1) == 0 {
		s.mu.Lock()
		if s.state == draining && s.drained != nil {
			close(s.drained)
			s.drained = nil
		}
		s.mu.Unlock()
	}
}

// count records a task's outcome in the Stats.
func (s *submitter) count(err error) {
	if err == nil {
		s.done.Add(1)
	} else {
		s.failed.Add(1)
	}
}

func (s *submitter) shutdown(ctx context.Context) error {
	s.mu.Lock()
	if s.state == closed {
		s.mu.Unlock()
		return pool.ErrClosed
	}
	s.state = draining
	var drained chan struct{}
	if s.pending.Load() > 0 {
		if s.drained == nil {
			s.drained = make(chan struct{})
		}
		drained = s.drained
	}
	s.mu.Unlock()
	if drained != nil {
		select {
		case <-drained:
		case <-ctx.Done():
			s.close()
			return ctx.Err()
		case <-s.ended:
			return pool.ErrClosed
		}
	}
	s.close()
	return nil
}

// close fails the pending tasks, then removes the queued tasks of the
// Pool's own batch before it cancels its running ones (as withdraw
// does), and purges its results.
func (s *submitter) close() error {
	s.mu.Lock()
	if s.state == closed {
		s.mu.Unlock()
		return nil
	}
	s.state = closed
	close(s.ended)
	if s.sub != nil {
		s.sub.Unsubscribe()
	}
	batches := make([]*batch, 0, len(s.batches))
	for _, b := range s.batches {
		batches = append(batches, b)
	}
	s.mu.Unlock()
	var mine []*task
	for _, b := range batches {
		if ts := b.end(pool.ErrClosed); b == s.mine {
			mine = ts
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	s.published(ctx)
	s.purgeMine(ctx, "task")
	s.cancelRunning(mine)
	s.purgeMine(ctx, "result")
	s.purgeMine(ctx, "failed")
	return nil
}

// withdraw takes back tasks of the Pool's own batch that were given
// up: it removes every one of them from the queue, and only then
// cancels them on the workers that run them, so that no slot that a
// cancellation frees takes one of the others meanwhile; and a worker
// that got one of them before it left the queue finds it gone and
// does not run it (see the package doc).
func (s *submitter) withdraw(ts []*task) {
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	s.published(ctx)
	s.unqueue(ctx, ts)
	s.cancelRunning(ts)
}

// published waits until the server has acknowledged every task
// published, so that a removal from the queue comes after them.
func (s *submitter) published(ctx context.Context) {
	select {
	case <-s.q.js.PublishAsyncComplete():
	case <-ctx.Done():
	}
}

// unqueueAtOnce bounds the removals from the queue sent at once.
const unqueueAtOnce = 32

// unqueue removes the tasks ts from the queue, where those that no
// worker took yet still wait, and returns once all are removed.
func (s *submitter) unqueue(ctx context.Context, ts []*task) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, unqueueAtOnce)
	for _, t := range ts {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := s.q.tasks.Purge(ctx, jetstream.WithPurgeSubject(t.subject)); err != nil {
				s.o.Logger.Debug("cluster: removing an abandoned task from the queue failed", "task", t.id(), "err", err)
			}
		}()
	}
	wg.Wait()
}

// cancelRunning tells the workers that may run the tasks ts, of the
// Pool's own batch, to cancel them.
func (s *submitter) cancelRunning(ts []*task) {
	nc := s.q.js.Conn()
	for _, t := range ts {
		nc.Publish(subject(s.q.name, "cancel", t.b.name, t.index), nil)
	}
	nc.Flush()
}

// purgeMine purges what the streams hold of kind ("task", "result" or
// "failed") for the Pool's own batch.
func (s *submitter) purgeMine(ctx context.Context, kind string) {
	stream := s.q.results
	if kind == "task" {
		stream = s.q.tasks
	}
	if err := s.q.purgeBatch(ctx, stream, kind, s.mine.name); err != nil {
		s.o.Logger.Warn("cluster: purging the pool's own batch failed", "err", err)
	}
}

func (s *submitter) statsNow() Stats {
	return Stats{
		Pending:    int(s.pending.Load()),
		Done:       s.done.Load(),
		Failed:     s.failed.Load(),
		Duplicates: s.duplicates.Load(),
	}
}

// sorted returns the members of set in increasing order.
func sorted(set map[uint64]bool) []int {
	out := make([]int, 0, len(set))
	for i := range set {
		out = append(out, int(i))
	}
	slices.Sort(out)
	return out
}
