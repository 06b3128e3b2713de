//go:build linux

package pool_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/childproc/childproc/pool"
)

// A task's cancel reaches its worker after the task, even when the task
// is sent by another goroutine (the one that read the answer which made
// room for it) and its caller gives up while that goroutine still sends
// it: the worker then cancels the task within CancelGrace and is not
// stopped, so the other task it runs succeeds.
func TestCancelNeverOvertakesItsTask(t *testing.T) {
	p := newPool(t, tester, &pool.Options{Size: 1, Concurrency: 2, CancelGrace: 3 * time.Second, Child: quiet()})
	ctx := context.Background()
	long := make(chan error, 1)
	go func() {
		_, err := p.Do(ctx, job{Sleep: 7 * time.Second, Value: "long"})
		long <- err
	}()
	time.Sleep(100 * time.Millisecond)
	first := make(chan error, 1)
	go func() {
		_, err := p.Do(ctx, job{Sleep: 2 * time.Second})
		first <- err
	}()
	time.Sleep(100 * time.Millisecond)
	xctx, cancel := context.WithCancel(ctx)
	defer cancel()
	x := make(chan error, 1)
	go func() {
		// Big, so that its frame takes a while to encode once its turn
		// comes; it waits in the queue for the second task's slot.
		_, err := p.Do(xctx, job{Sleep: time.Minute, Value: strings.Repeat("x", 8<<20)})
		x <- err
	}()
	eventually(t, 5*time.Second, "the big task queued", func() bool { return p.Stats().Queued == 1 })
	for deadline := time.Now().Add(5 * time.Second); p.Stats().Queued != 0; time.Sleep(50 * time.Microsecond) {
		if time.Now().After(deadline) {
			t.Fatal("the big task not dispatched within 5s")
		}
	}
	cancel() // while its frame is still being encoded
	if err := <-first; err != nil {
		t.Fatalf("second task: %v", err)
	}
	if err := <-x; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled task: %v, want context.Canceled", err)
	}
	if err := <-long; err != nil {
		t.Fatalf("the long task, on the worker that got the cancel: %v", err)
	}
	if s := p.Stats(); s.Restarts != 0 {
		t.Fatalf("worker restarted: %+v", s)
	}
}

// Tasks sent to a worker that already runs others (written by the
// channel's writer with what piles up) end exactly once each: Shutdown
// lets them finish, Close fails the ones still running with ErrClosed,
// and no process is left.
func TestBatchedTasksAtShutdownAndClose(t *testing.T) {
	leakCheck(t)
	const n = 8
	for _, stop := range []string{"Shutdown", "Close"} {
		p, err := pool.New(tester, &pool.Options{Size: 1, Concurrency: n, Child: quiet()})
		if err != nil {
			t.Fatal(err)
		}
		errs := make(chan error, n)
		for i := range n {
			go func() {
				got, err := p.Do(context.Background(), job{Sleep: 500 * time.Millisecond, Value: strings.Repeat("v", i)})
				if err == nil && got != strings.Repeat("v", i) {
					err = errors.New("wrong answer " + got)
				}
				errs <- err
			}()
		}
		time.Sleep(200 * time.Millisecond)
		if stop == "Shutdown" {
			if err := p.Shutdown(context.Background()); err != nil {
				t.Errorf("Shutdown: %v", err)
			}
		} else {
			p.Close()
		}
		for range n {
			select {
			case err := <-errs:
				if stop == "Shutdown" && err != nil || stop == "Close" && !errors.Is(err, pool.ErrClosed) {
					t.Errorf("after %s: a task's error: %v", stop, err)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("after %s: a task did not return within 10 s", stop)
			}
		}
		p.Close()
		if pids := childPids(t); len(pids) != 0 {
			t.Fatalf("after %s: processes left: %v", stop, pids)
		}
	}
}
