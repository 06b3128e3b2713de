package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"

	"github.com/childproc/childproc/ipc"
	"github.com/nats-io/nats.go"
)

// Pool submits tasks to the workers of a cluster pool and collects
// their results. It has the methods of a local *pool.Pool, with the
// same meaning. Its methods may be called from any goroutine.
type Pool[Req, Resp any] struct {
	s *submitter
}

// New returns a Pool that submits tasks to the pool named name on the
// server nc is connected to, creating the pool's streams and consumer
// if they are missing (see the package doc). It returns an error
// wrapping ErrBadName for a bad name, ErrBadOptions for bad Options,
// and the server's error when JetStream is unavailable. nc stays the
// caller's: closing the Pool does not close it.
func New[Req, Resp any](nc *nats.Conn, name string, opts *Options) (*Pool[Req, Resp], error) {
	s, err := newSubmitter(nc, name, opts)
	if err != nil {
		return nil, err
	}
	return &Pool[Req, Resp]{s}, nil
}

// Do submits req, waits for its result and returns it: the response,
// the handler's *pool.TaskError, a *DeadLetterError, an error wrapping
// ErrBadTask, an error wrapping ErrTooLarge (for a request too large,
// at once), or pool.ErrClosed once the Pool is closed. It waits for
// room while Options.MaxPending tasks are pending. When ctx ends first
// it returns ctx's error, and the task is removed from the queue if no
// worker has taken it yet, and then cancelled on its worker (its
// handler's context ends) if one runs it, in the background.
func (p *Pool[Req, Resp]) Do(ctx context.Context, req Req) (Resp, error) {
	var resp Resp
	value, err := encode(req)
	if err != nil {
		return resp, err
	}
	t, err := p.s.submit(ctx, value)
	if err != nil {
		return resp, err
	}
	return decodeResult[Resp](p.s.await(ctx, t))
}

// Map submits every request of reqs and yields the responses in the
// order of reqs, each with its error (as Do returns them), keeping at
// most Options.MaxPending tasks in flight. Map reads reqs in a
// goroutine of its own, so that a request is submitted as soon as reqs
// yields it and a response is yielded as soon as it comes, even while
// reqs waits for its next request. Stopping the iteration early, or the
// end of ctx (which yields ctx's error once), abandons the tasks still
// in flight before Map returns: all of them are removed from the queue,
// and only then those running are cancelled on their workers (see
// Stopping in the package doc); Map stops reading reqs at its next
// request.
func (p *Pool[Req, Resp]) Map(ctx context.Context, reqs iter.Seq[Req]) iter.Seq2[Resp, error] {
	return mapResults[Resp](ctx, p.s.own(), encodeAll(reqs))
}

// MapBatch is Map for a durable batch named batch: the tasks and their
// results stay in JetStream (results for Options.ResultTTL), so that a
// submitter that stopped or crashed midway can call MapBatch again with
// the same name and the same requests in the same order. Then the
// results already stored are yielded again, in order, the tasks still
// queued or running are awaited, and only the requests never submitted
// are submitted. The i-th request of reqs is the task "batch.i"
// (counting from 0). It returns an error wrapping ErrBadName, as its
// first and only result, for a bad batch name.
func (p *Pool[Req, Resp]) MapBatch(ctx context.Context, batch string, reqs iter.Seq[Req]) iter.Seq2[Resp, error] {
	b, err := p.s.durable(ctx, batch)
	if err != nil {
		return func(yield func(Resp, error) bool) {
			var zero Resp
			yield(zero, err)
		}
	}
	return mapResults[Resp](ctx, b, encodeAll(reqs))
}

// BatchState is what JetStream holds of a durable batch.
type BatchState struct {
	// Done lists, in increasing order, the indexes of the tasks whose
	// result is stored (a response or an error).
	Done []int
	// Queued lists, in increasing order, the indexes of the tasks
	// submitted that have no result yet (waiting or running).
	Queued []int
}

// Batch returns the state of the durable batch named batch. A batch
// that was never submitted has an empty state.
func (p *Pool[Req, Resp]) Batch(ctx context.Context, batch string) (BatchState, error) {
	return p.s.batchState(ctx, batch)
}

// DeleteBatch removes the tasks still queued and every result of the
// durable batch named batch. Tasks running on workers run to their end.
func (p *Pool[Req, Resp]) DeleteBatch(ctx context.Context, batch string) error {
	return p.s.deleteBatch(ctx, batch)
}

// Shutdown stops taking tasks (Do returns pool.ErrClosed) and waits
// for the results of the pending ones. It returns nil once all came;
// when ctx ends first it does what Close does and returns ctx's error.
// Workers are not stopped: they serve the cluster, not this Pool.
func (p *Pool[Req, Resp]) Shutdown(ctx context.Context) error { return p.s.shutdown(ctx) }

// Close stops the Pool now: pending tasks fail with pool.ErrClosed, the
// tasks of Do and Map are removed from the queue and then, those
// running, cancelled on their workers (so that no queued task starts;
// see Stopping in the package doc), and their results are purged. Durable batches stay. Close and
// Shutdown may be called more than once, in any order.
func (p *Pool[Req, Resp]) Close() error { return p.s.close() }

// Stats returns the Pool's counts at this moment.
func (p *Pool[Req, Resp]) Stats() Stats { return p.s.statsNow() }

// Stats are a Pool's counts. They count what this Pool submitted, not
// the cluster's other submitters.
type Stats struct {
	// Pending counts tasks submitted and not yet answered.
	Pending int
	// Done counts tasks that returned a response; Failed those that
	// returned any other error except their caller's cancellation.
	Done, Failed int64
	// Duplicates counts results dropped because their task had been
	// answered already (a task run twice; see the package doc) or
	// given up (its Do's context ended, its Map stopped early).
	Duplicates int64
}

func encode(req any) ([]byte, error) {
	b, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("cluster: encoding the request: %w", err)
	}
	return b, nil
}

// encodeAll encodes each request of reqs.
func encodeAll[Req any](reqs iter.Seq[Req]) iter.Seq2[[]byte, error] {
	return func(yield func([]byte, error) bool) {
		for req := range reqs {
			if !yield(encode(req)) {
				return
			}
		}
	}
}

// decodeResult decodes a task's result.
func decodeResult[Resp any](value []byte, err error) (Resp, error) {
	var resp Resp
	if err != nil {
		return resp, err
	}
	if err := ipc.JSON.Unmarshal(value, &resp); err != nil {
		return resp, fmt.Errorf("cluster: decoding the response: %w", err)
	}
	return resp, nil
}
