package pool

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/childproc/childproc"
	"github.com/childproc/childproc/internal/jsontext"
	"github.com/childproc/childproc/ipc"
)

// A Worker says how to start one worker process: a child with an IPC
// channel that serves the pool protocol. It is a struct, not an
// interface, so that New infers Req and Resp from it: pool.New(square,
// nil).
//
// Start is called with a context that ends when the pool is closed, or
// when Start has not returned within Options.StartTimeout, and with the
// Options the pool derived from Options.Child; it returns once the
// process has started, and at once when the context ends first. The
// pool then waits for the worker's ready message, for what is left of
// StartTimeout.
type Worker[Req, Resp any] struct {
	Start func(ctx context.Context, opts *childproc.Options) (*childproc.Child, error)
}

// entryPrefix prefixes the entry name of each Register'ed worker.
const entryPrefix = "childproc/pool:"

// Register makes fn a Go worker, run in forked copies of the running
// binary (a Go entry point: see childproc.RegisterEntry). Call it in a
// package-level var declaration, so that the parent and its forked
// children register the same workers; main (and TestMain) must call
// childproc.RunEntry first. Registering a name twice panics.
//
// In the worker, each task runs fn in a goroutine of its own, with a
// context that is cancelled when the task's caller gives up or the
// pool goes away. An error fn returns is the task's *TaskError, whose
// Name is the error's %T; a panic in fn is a *TaskError named "panic"
// that carries the stack, and the worker lives on.
func Register[Req, Resp any](name string, fn func(ctx context.Context, req Req) (Resp, error)) Worker[Req, Resp] {
	entry := childproc.RegisterEntry(entryPrefix+name, func(ctx context.Context, ch *ipc.Channel, _ []string) error {
		return Serve(ctx, ch, fn)
	})
	return Worker[Req, Resp]{Start: func(ctx context.Context, opts *childproc.Options) (*childproc.Child, error) {
		return childproc.ForkEntry(ctx, entry, nil, opts)
	}}
}

// Script is a worker written in another language: a .js, .cjs or .mjs
// file run by node (Child.ExecPath), a .py file run by python3, or any
// executable, that serves the pool protocol over Node's IPC channel.
// The repository ships the worker side for Node (pool/node/worker.js)
// and Python (pool/python/childproc_pool.py).
func Script[Req, Resp any](module string, args ...string) Worker[Req, Resp] {
	return Worker[Req, Resp]{Start: func(ctx context.Context, opts *childproc.Options) (*childproc.Child, error) {
		if filepath.Ext(module) == ".py" {
			return childproc.Spawn(ctx, "python3", append([]string{module}, args...), opts)
		}
		return childproc.Fork(ctx, module, args, opts)
	}}
}

// Serve serves the pool protocol on ch with fn, as a Register'ed worker
// does, until ctx ends or the parent closes the channel. It is the
// worker side for a Go program that a Worker's Start runs some other
// way (its own binary, a container). It returns nil when the parent
// closed the channel, and an error wrapping ipc.ErrUnsupported at once
// for a channel whose serialization is not JSON, the protocol's.
func Serve[Req, Resp any](ctx context.Context, ch *ipc.Channel, fn func(ctx context.Context, req Req) (Resp, error)) error {
	if name := ch.Codec().Name(); name != ipc.JSON.Name() {
		return fmt.Errorf("pool: Serve: the channel's serialization is %q, and the pool protocol is JSON: %w", name, ipc.ErrUnsupported)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s := &server[Req, Resp]{ch: ch, fn: fn, running: map[uint64]context.CancelFunc{},
		token: make(chan struct{}, 1), done: make(chan struct{})}
	if err := ch.Send(json.RawMessage(`{"pool":"ready","protocol":1}`)); err != nil {
		return err
	}
	s.ctx = context.WithValue(ctx, channelKey{}, ch) // for Recycle
	s.watch = newWatch(s.handOff)
	s.token <- struct{}{}
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		s.watch.run(s.done)
	}()
	go s.runner()
	<-s.done
	cancel()
	s.wg.Wait()
	return s.err
}

// server is the worker side of one channel. Its runners take turns
// reading the channel, and the one that reads a task runs it itself, so
// that a task goes from the socket to its handler without a hand-off
// between goroutines, and the runners' stacks have grown to what tasks
// need once and for all (see runner).
type server[Req, Resp any] struct {
	ch *ipc.Channel
	fn func(ctx context.Context, req Req) (Resp, error)

	ctx   context.Context // Serve's, holding the channel for Recycle: the runners' and the tasks' parent
	token chan struct{}   // holds the turn to read while no runner reads
	idle  atomic.Int32    // runners waiting for the turn
	done  chan struct{}   // closed once the channel has ended
	err   error           // why it ended, set before done is closed
	watch *watch          // hands the turn on when a task runs long
	wg    sync.WaitGroup

	mu      sync.Mutex
	running map[uint64]context.CancelFunc
}

// runner reads the channel when its turn comes and runs the tasks it
// reads, until the channel ends. A quick task keeps the turn with its
// runner, which reads on: a worker answering one quick task after
// another works as a plain read-answer loop, whose Recv follows its own
// Send (and so tries the socket before it parks: see ipc's Latency
// section). A longer task hands the turn to an idle runner (starting
// one if none is idle), so that cancels and further tasks are read
// meanwhile (see watch).
func (s *server[Req, Resp]) runner() {
	ctx := s.ctx
	defer s.wg.Done()
	for s.takeTurn() {
		for {
			id, value, ok := s.read(ctx)
			if !ok {
				return
			}
			seq := s.watch.begin()
			s.execute(ctx, id, value)
			if !s.watch.end(seq) {
				break // the turn went to another runner
			}
		}
	}
}

// takeTurn waits for the turn to read, and reports false once the
// channel has ended.
func (s *server[Req, Resp]) takeTurn() bool {
	s.idle.Add(1)
	defer s.idle.Add(-1)
	select {
	case <-s.token:
		return true
	case <-s.done:
		return false
	}
}

// handOff gives the turn to read to an idle runner, starting one if
// none is idle. The watch calls it while the runner that held the turn
// still runs its task, so that the runners cannot all have ended.
func (s *server[Req, Resp]) handOff() {
	if s.idle.Load() == 0 {
		s.wg.Add(1)
		go s.runner()
	}
	s.token <- struct{}{}
}

// read reads messages until it gets a task, acting on the cancels that
// come before it. At the channel's end it records why and reports
// false.
func (s *server[Req, Resp]) read(ctx context.Context) (uint64, json.RawMessage, bool) {
	for {
		msg, err := s.ch.Recv(ctx)
		if err != nil {
			s.err = endOfServe(ctx, err)
			close(s.done)
			return 0, nil, false
		}
		m, ok, err := parseMessage(msg.Bytes())
		if err != nil || !ok {
			continue // not for the pool, or not a task the parent could mean
		}
		switch m.Pool {
		case kindTask:
			return *m.ID, m.Value, true
		case kindCancel:
			s.cancel(*m.ID)
		}
	}
}

// endOfServe is Serve's result for the Recv error that ended it.
func endOfServe(ctx context.Context, err error) error {
	if ctx.Err() != nil || errors.Is(err, io.EOF) {
		return nil
	}
	return err
}

// channelKey is the context key under which a task's context holds the
// channel of the worker that runs it, for Recycle.
type channelKey struct{}

// Recycle asks the pool to replace the worker that runs the task whose
// context is ctx, once its running tasks are done: a Go handler's way
// to shed a cache grown too big or a leak it noticed. It returns an
// error when ctx is not a task's.
func Recycle(ctx context.Context, reason string) error {
	ch, ok := ctx.Value(channelKey{}).(*ipc.Channel)
	if !ok {
		return errors.New("pool: Recycle outside a worker's task")
	}
	b, err := json.Marshal(message{Pool: kindRecycle, Reason: reason})
	if err != nil {
		return err
	}
	return ch.Send(json.RawMessage(b))
}

// execute runs task id and sends its answer.
func (s *server[Req, Resp]) execute(ctx context.Context, id uint64, value json.RawMessage) {
	tctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.mu.Lock()
	s.running[id] = cancel
	s.mu.Unlock()
	out, err := s.run(tctx, id, value)
	s.answer(id, out, err)
	s.mu.Lock()
	delete(s.running, id) // a cancel that comes now finds a task that is done
	s.mu.Unlock()
}

func (s *server[Req, Resp]) cancel(id uint64) {
	s.mu.Lock()
	cancel := s.running[id]
	s.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// run decodes the request, calls fn and encodes its response into the
// result message for task id.
func (s *server[Req, Resp]) run(ctx context.Context, id uint64, value json.RawMessage) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, &TaskError{Name: "panic", Message: fmt.Sprint(r), Stack: string(debug.Stack())}
		}
	}()
	var req Req
	if err := ipc.JSON.Unmarshal(value, &req); err != nil {
		return nil, err
	}
	resp, err := s.fn(ctx, req)
	if err != nil {
		return nil, err
	}
	return appendValueMessage(nil, kindResult, id, resp)
}

// answer sends task id's result message, or its error.
func (s *server[Req, Resp]) answer(id uint64, result []byte, err error) {
	if err == nil {
		s.ch.Send((*jsontext.Text)(&result)) // appendValueMessage's
		return
	}
	w := wireError{Message: err.Error(), Name: fmt.Sprintf("%T", err)}
	if te, ok := err.(*TaskError); ok {
		w = wireError(*te)
	}
	b, _ := json.Marshal(message{Pool: kindError, ID: &id, Error: &w})
	s.ch.Send(json.RawMessage(b))
}
