//go:build linux

package pool_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/childproc/childproc"
	"github.com/childproc/childproc/ipc"
	"github.com/childproc/childproc/pool"
)

// A worker that breaks the protocol fails its tasks with a *WorkerError
// wrapping ErrProtocol and is replaced; the parent goes on, its memory
// bounded.
func TestProtocolViolations(t *testing.T) {
	leakCheck(t)
	heap := func() uint64 {
		var m runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m)
		return m.HeapInuse
	}
	before := heap()
	for _, mode := range []string{"bad-json", "unknown-id", "duplicate", "huge", "bad-id"} {
		t.Run(mode, func(t *testing.T) {
			o := quiet()
			o.Channel = &ipc.Options{MaxMessageSize: 1 << 20}
			p := newPool(t, pool.Script[int, int]("testdata/rogue.py", mode), &pool.Options{Size: 1, Child: o})
			got, err := p.Do(context.Background(), 7)
			if mode == "duplicate" {
				// The first answer is the result; the second breaks the protocol.
				if err != nil || got != 7 {
					t.Fatalf("first answer: %d, %v", got, err)
				}
				eventually(t, 5*time.Second, "worker replaced", func() bool { return p.Stats().Restarts == 1 })
				return
			}
			var we *pool.WorkerError
			if !errors.As(err, &we) || !errors.Is(err, pool.ErrProtocol) {
				t.Fatalf("Do: %v, want a *WorkerError wrapping ErrProtocol", err)
			}
			eventually(t, 5*time.Second, "worker replaced", func() bool { return p.Stats().Workers == 1 })
			if s := p.Stats(); s.Restarts != 1 {
				t.Fatalf("Stats %+v", s)
			}
		})
	}
	if after := heap(); after > before+16<<20 {
		t.Fatalf("heap in use grew from %d to %d MiB over the rogue workers", before>>20, after>>20)
	}
}

// Messages that are not the pool's are ignored.
func TestForeignMessagesIgnored(t *testing.T) {
	p := newPool(t, pool.Script[int, int]("testdata/rogue.py", "noise"), &pool.Options{Size: 1, Child: quiet()})
	for i := range 3 {
		if got, err := p.Do(context.Background(), i); err != nil || got != i {
			t.Fatalf("Do(%d) = %d, %v", i, got, err)
		}
	}
	if s := p.Stats(); s.Restarts != 0 {
		t.Fatalf("Stats %+v", s)
	}
}

// A worker that never says it is ready fails its start after
// StartTimeout.
var silent = childproc.RegisterEntry("test/silent", func(ctx context.Context, ch *ipc.Channel, _ []string) error {
	<-ctx.Done()
	return nil
})

func TestStartTimeout(t *testing.T) {
	w := pool.Worker[int, int]{Start: func(ctx context.Context, o *childproc.Options) (*childproc.Child, error) {
		return childproc.ForkEntry(ctx, silent, nil, o)
	}}
	start := time.Now()
	_, err := pool.New(w, &pool.Options{Size: 1, StartTimeout: 200 * time.Millisecond, Child: quiet()})
	var we *pool.WorkerError
	if !errors.As(err, &we) || we.Err.Error() != "pool: worker not ready within 200ms" || time.Since(start) > 10*time.Second {
		t.Fatalf("New with a silent worker: %v after %v", err, time.Since(start))
	}
}

// A Start that does not return is bounded by StartTimeout too: its
// context is cancelled, and New fails with the timeout and Start's own
// error.
func TestStartTimeoutStartHangs(t *testing.T) {
	var calls atomic.Int32
	w := pool.Worker[int, int]{Start: func(ctx context.Context, o *childproc.Options) (*childproc.Child, error) {
		calls.Add(1)
		<-ctx.Done()
		return nil, ctx.Err()
	}}
	start := time.Now()
	_, err := pool.New(w, &pool.Options{Size: 1, StartTimeout: 200 * time.Millisecond, Child: quiet()})
	if err == nil || !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), "pool: worker not ready within 200ms: Start: context canceled") {
		t.Fatalf("New with a Start that hangs: %v", err)
	}
	if d := time.Since(start); d < 3*200*time.Millisecond || d > 10*time.Second || calls.Load() != 3 {
		t.Fatalf("New gave up after %v and %d starts", d, calls.Load())
	}
}

// A pool closed while a Start hangs ends that Start's context, and
// Close returns, leaving nothing behind.
func TestCloseWhileStartHangs(t *testing.T) {
	leakCheck(t)
	var starts atomic.Int32
	hanging := make(chan struct{})
	w := pool.Worker[job, string]{Start: func(ctx context.Context, o *childproc.Options) (*childproc.Child, error) {
		if starts.Add(1) == 1 {
			return tester.Start(ctx, o)
		}
		close(hanging) // the replacement of the worker that crashed
		<-ctx.Done()
		return nil, context.Cause(ctx)
	}}
	p, err := pool.New(w, &pool.Options{Size: 1, StartTimeout: time.Minute, Child: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	var we *pool.WorkerError
	if _, err := p.Do(context.Background(), job{Exit: 3}); !errors.As(err, &we) {
		t.Fatalf("Do of a crash: %v", err)
	}
	<-hanging
	done := make(chan struct{})
	go func() { p.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return while a Start hung")
	}
}

// A task whose message cannot be sent to its worker (the worker takes
// nothing more) never ran there: it runs on the replacement even with
// no Retries.
func TestUnsentTaskRunsElsewhere(t *testing.T) {
	var starts atomic.Int32
	deaf := pool.Script[job, string]("testdata/rogue.py", "deaf")
	w := pool.Worker[job, string]{Start: func(ctx context.Context, o *childproc.Options) (*childproc.Child, error) {
		if starts.Add(1) == 1 {
			o.Stdio[0] = childproc.Pipe // its stdin ends with the pool
			return deaf.Start(ctx, o)
		}
		return tester.Start(ctx, o)
	}}
	p := newPool(t, w, &pool.Options{Size: 1, Child: quiet()})
	got, err := p.Do(context.Background(), job{Value: "ran"})
	if err != nil || got != "ran" {
		t.Fatalf("Do on a worker that takes nothing: %q, %v", got, err)
	}
	if s := p.Stats(); s.Restarts != 1 || starts.Load() != 2 {
		t.Fatalf("after the deaf worker: %d starts, %+v", starts.Load(), s)
	}
}
