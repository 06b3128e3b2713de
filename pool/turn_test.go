//go:build linux

package pool_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/childproc/childproc/pool"
)

// released is closed, in a worker process, by the task "release".
var (
	releaseOnce sync.Once
	released    = make(chan struct{})
)

// rendezvous: "wait" returns once a "release" task has run in the same
// worker (or fails after 10 s), "release" releases, anything else
// returns at once.
var rendezvous = pool.Register("rendezvous", func(ctx context.Context, what string) (string, error) {
	switch what {
	case "wait":
		select {
		case <-released:
			return "released", nil
		case <-time.After(10 * time.Second):
			return "", errors.New("never released: the release task was not read")
		}
	case "release":
		releaseOnce.Do(func() { close(released) })
	}
	return what, nil
})

// A Go worker reads on while a long task runs: with Concurrency 2, a
// task that waits for a second task to reach the same worker returns,
// whether it comes to an idle worker or right after a stream of quick
// tasks (whose runner holds the turn to read).
func TestLongTaskHandsOnTheTurn(t *testing.T) {
	for _, quick := range []int{0, 2000} {
		p := newPool(t, rendezvous, &pool.Options{Size: 1, Concurrency: 2, Child: quiet()})
		ctx := context.Background()
		for range quick {
			if _, err := p.Do(ctx, "quick"); err != nil {
				t.Fatal(err)
			}
		}
		start := time.Now()
		waited := make(chan error, 1)
		go func() {
			got, err := p.Do(ctx, "wait")
			if err == nil && got != "released" {
				err = errors.New("wait returned " + got)
			}
			waited <- err
		}()
		eventually(t, 5*time.Second, "the wait task running", func() bool { return p.Stats().Busy == 1 })
		if _, err := p.Do(ctx, "release"); err != nil {
			t.Fatal(err)
		}
		if err := <-waited; err != nil {
			t.Fatalf("after %d quick tasks: %v (%v)", quick, err, time.Since(start))
		}
		p.Close()
	}
}

// A cancel reaches a long task's handler right after a stream of quick
// tasks too (CancelGrace is long enough that only the handler's answer
// ends the task in time).
func TestCancelAfterQuickTasks(t *testing.T) {
	p := newPool(t, tester, &pool.Options{Size: 1, CancelGrace: time.Minute, Child: quiet()})
	for range 2000 {
		if _, err := p.Do(context.Background(), job{Value: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := p.Do(ctx, job{Sleep: 20 * time.Second}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Do: %v", err)
	}
	eventually(t, 3*time.Second, "the handler answered its cancel", func() bool { return p.Stats().Busy == 0 })
	if s := p.Stats(); s.Restarts != 0 || s.Failed != 0 {
		t.Fatalf("Stats %+v after %v", s, time.Since(start))
	}
}
