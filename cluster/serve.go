package cluster

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/nats-io/nats.go"

	"github.com/childproc/childproc/ipc"
	"github.com/childproc/childproc/pool"
)

// Serve runs the tasks of the cluster pool named name on the local pool
// p, until ctx ends: it pulls as many tasks at once as p has free slots
// (Options.Slots), runs each with p.Do, publishes its result and acks
// it (see the package doc for the delivery rules). It creates the
// pool's streams and consumer if they are missing.
//
// Serve returns when ctx ends, after its running tasks have been
// cancelled (their handlers' context ends) and handed back to the
// queue for other workers; it returns nil then. It returns early with
// an error wrapping ErrBadName or ErrBadOptions, or the server's when
// JetStream is unavailable. Serve does not close p or nc. A lost
// connection is not an error: Serve waits for nc to reconnect.
func Serve[Req, Resp any](ctx context.Context, nc *nats.Conn, name string, p *pool.Pool[Req, Resp], opts *Options) error {
	o, err := opts.settings()
	if err != nil {
		return err
	}
	if o.Slots == 0 {
		o.Slots = max(1, p.Stats().Workers)
	}
	return serve(ctx, nc, name, &o, handlerOf(func(ctx context.Context, req Req) (Resp, error) {
		return p.Do(ctx, req)
	}))
}

// ServeFunc is Serve for a handler run in this process, Options.Slots
// calls at once (1 if 0). fn's context carries the task's id (TaskID).
// An error fn returns is the task's *pool.TaskError (Name is its %T);
// a panic in fn is one too (Name "panic"), and Serve lives on.
func ServeFunc[Req, Resp any](ctx context.Context, nc *nats.Conn, name string, fn func(ctx context.Context, req Req) (Resp, error), opts *Options) error {
	o, err := opts.settings()
	if err != nil {
		return err
	}
	setDefault(&o.Slots, 1)
	return serve(ctx, nc, name, &o, handlerOf(inProcess(fn)))
}

type taskIDKey struct{}

// TaskID returns the id ("batch.index") of the task whose handler got
// ctx from ServeFunc: the same on every delivery of the task, the key
// for a handler that must be idempotent.
func TaskID(ctx context.Context) (string, bool) {
	id, ok := ctx.Value(taskIDKey{}).(string)
	return id, ok
}

// A handler runs one task's JSON request and returns its JSON response.
type handler func(ctx context.Context, req []byte) ([]byte, error)

// handlerOf makes fn a handler: it decodes the request (an error
// wrapping ErrBadTask when it cannot) and encodes the response.
func handlerOf[Req, Resp any](fn func(ctx context.Context, req Req) (Resp, error)) handler {
	return func(ctx context.Context, b []byte) ([]byte, error) {
		var req Req
		if err := ipc.JSON.Unmarshal(b, &req); err != nil {
			return nil, fmt.Errorf("%w: decoding the request: %w", ErrBadTask, err)
		}
		resp, err := fn(ctx, req)
		if err != nil {
			return nil, err
		}
		out, err := json.Marshal(resp)
		if err != nil {
			return nil, &pool.TaskError{Message: "encoding the response: " + err.Error(), Name: fmt.Sprintf("%T", err)}
		}
		return out, nil
	}
}
