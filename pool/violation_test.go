//go:build linux

package pool_test

import (
	"context"
	"errors"
	"runtime"
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
