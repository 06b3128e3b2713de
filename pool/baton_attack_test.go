//go:build linux

package pool_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/childproc/childproc/pool"
)

// A Map reads its answers in order: while it waits for a slow first
// task, the answer of its quick second one, on the other worker, is
// nobody's to read but the pool's. That worker's reader reads it at
// once even when lone callers had just kept its baton busy (its looks
// then come tens of milliseconds apart), so that the worker is free
// for the next caller.
func TestMapsUnreadAnswerFreesItsWorker(t *testing.T) {
	p := newPool(t, tester, &pool.Options{Size: 2, Child: quiet()})
	ctx := context.Background()
	var waits []time.Duration
	for range 11 {
		// While a sleeper holds the first worker, lone tasks on the
		// second make its reader look ever less often.
		slept := make(chan error, 1)
		go func() {
			_, err := p.Do(ctx, job{Sleep: 150 * time.Millisecond})
			slept <- err
		}()
		eventually(t, 5*time.Second, "the sleeper running", func() bool { return p.Stats().Busy == 1 })
		for done := false; !done; {
			if _, err := p.Do(ctx, job{Value: "quick"}); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-slept:
				if err != nil {
					t.Fatal(err)
				}
				done = true
			default:
			}
		}
		done := p.Stats().Done
		start := time.Now()
		mapped := make(chan error, 1)
		go func() {
			var err error
			for _, e := range p.Map(ctx, slices.Values([]job{{Sleep: 300 * time.Millisecond}, {Value: "second"}})) {
				if e != nil && err == nil {
					err = e
				}
			}
			mapped <- err
		}()
		// Both sent: the second one's answer unread, or read already.
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Microsecond) {
			if s := p.Stats(); s.Busy == 2 || s.Done > done {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the Map's tasks not sent within 5s")
			}
		}
		if _, err := p.Do(ctx, job{Value: "next"}); err != nil {
			t.Fatal(err)
		}
		waits = append(waits, time.Since(start))
		if err := <-mapped; err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(waits)
	if p66 := waits[len(waits)*2/3]; p66 > 8*time.Millisecond {
		t.Fatalf("a quick Do while a Map's answer waited unread was done %v after the Map began (two thirds of them less; all %v)", p66, waits)
	}
}

// Whatever ends a lone task while its caller reads the channel for it
// (the pool's Close or Shutdown, the worker's death, TaskTimeout, the
// caller's own ctx), Do returns at once with that outcome, the pool
// goes on serving where it can, and nothing is left behind: no
// goroutine, process or descriptor.
func TestEndsWhileTheCallerReads(t *testing.T) {
	warm, err := pool.New(tester, &pool.Options{Size: 1, Child: quiet()}) // what lives on once open: the poller, the guardian
	if err != nil {
		t.Fatal(err)
	}
	warm.Close()
	fds, goroutines := openFDs(t), goleak.IgnoreCurrent()
	for _, end := range []string{"Close", "Shutdown", "death", "timeout", "ctx"} {
		o := &pool.Options{Size: 1, Child: quiet(), CancelGrace: 10 * time.Second}
		if end == "timeout" {
			o.TaskTimeout = 300 * time.Millisecond
		}
		p, err := pool.New(tester, o)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 200 { // the callers keep the baton: the reader looks up to 32 ms apart
			if _, err := p.Do(context.Background(), job{Value: "x"}); err != nil {
				t.Fatalf("%s: quick task %d: %v", end, i, err)
			}
		}
		ctx, cancel := context.WithCancel(context.Background())
		j := job{Sleep: 3 * time.Second}
		if end == "death" {
			j = job{Exit: -1}
		}
		start := time.Now()
		done := make(chan error, 1)
		go func() {
			_, err := p.Do(ctx, j)
			done <- err
		}()
		eventually(t, 5*time.Second, end+": the task running", func() bool { return p.Stats().Busy == 1 || end == "death" })
		time.Sleep(100 * time.Millisecond)
		stopped := make(chan error, 1)
		switch end {
		case "Close":
			go func() { stopped <- p.Close() }()
		case "Shutdown":
			go func() { stopped <- p.Shutdown(context.Background()) }()
		case "ctx":
			cancel()
		}
		var got error
		select {
		case got = <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: Do did not return within 10 s", end)
		}
		took := time.Since(start)
		cancel()
		var ok bool
		var we *pool.WorkerError
		switch end {
		case "Close":
			ok = errors.Is(got, pool.ErrClosed) && took < 2*time.Second
		case "Shutdown":
			ok = got == nil && took >= 3*time.Second
		case "death":
			ok = errors.As(got, &we)
		case "timeout":
			ok = errors.Is(got, pool.ErrTimeout)
		case "ctx":
			ok = errors.Is(got, context.Canceled) && took < 2*time.Second
		}
		if !ok {
			t.Errorf("%s: Do returned %v after %v", end, got, took)
		}
		if end == "Close" || end == "Shutdown" {
			if err := <-stopped; err != nil {
				t.Errorf("%s: %v", end, err)
			}
		} else {
			// The pool serves on, with the next worker or the same.
			sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
			if got, err := p.Do(sctx, job{Value: "after"}); err != nil || got != "after" {
				t.Errorf("%s: the next Do: %q, %v", end, got, err)
			}
			scancel()
		}
		p.Close()
		if pids := children(t); len(pids) != 0 {
			t.Fatalf("%s: processes left: %v", end, pids)
		}
		eventually(t, 5*time.Second, end+": the pool's descriptors closed", func() bool { return openFDs(t) <= fds })
		if err := goleak.Find(goroutines, goleak.IgnoreAnyFunction("github.com/childproc/childproc/internal/guardian.reapGuardian")); err != nil {
			t.Fatalf("%s: %v", end, err)
		}
	}
}

// Callers that give up at every moment of their tasks' lives, on
// workers shared by several tasks: each cancel reaches its worker after
// its task (a cancel that overtook it would find no task there, and the
// task would run its full ten seconds) and none is left unsent, so every
// task ends within moments, and no worker is stopped for a missed
// cancel.
func TestEveryCancelReachesItsTask(t *testing.T) {
	p := newPool(t, tester, &pool.Options{Size: 2, Concurrency: 8, CancelGrace: time.Minute, Child: quiet()})
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 2))
			for range 100 {
				ctx, cancel := context.WithTimeout(context.Background(), time.Duration(r.IntN(500))*time.Microsecond)
				_, err := p.Do(ctx, job{Sleep: 10 * time.Second})
				cancel()
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("caller %d: %v", g, err)
					return
				}
				if r.IntN(2) == 0 {
					if got, err := p.Do(context.Background(), job{Value: "q"}); err != nil || got != "q" {
						t.Errorf("caller %d, a quick task: %q, %v", g, got, err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	eventually(t, 5*time.Second, "every cancelled task answered", func() bool { return p.Stats().Busy == 0 })
	if s := p.Stats(); s.Restarts != 0 {
		t.Fatalf("workers restarted: %+v", s)
	}
}

// A quick task that comes while a long one runs on the same worker, right
// after a stream of quick tasks (whose runner held the turn to read, its
// watch looking up to 8 ms apart), is answered within moments, not once
// the long task is done; the long task's caller reads the channel for it
// meanwhile, or the pool's reader does.
func TestQuickTaskBesideALongOne(t *testing.T) {
	p := newPool(t, tester, &pool.Options{Size: 1, Concurrency: 2, Child: quiet()})
	ctx := context.Background()
	var waits []time.Duration
	for range 7 {
		for range 1000 {
			if _, err := p.Do(ctx, job{Value: "quick"}); err != nil {
				t.Fatal(err)
			}
		}
		long := make(chan error, 1)
		go func() {
			_, err := p.Do(ctx, job{Sleep: 300 * time.Millisecond})
			long <- err
		}()
		for deadline := time.Now().Add(5 * time.Second); p.Stats().Busy != 1; time.Sleep(50 * time.Microsecond) {
			if time.Now().After(deadline) {
				t.Fatal("the long task not running within 5s")
			}
		}
		start := time.Now()
		if got, err := p.Do(ctx, job{Value: "beside"}); err != nil || got != "beside" {
			t.Fatalf("the quick task: %q, %v", got, err)
		}
		waits = append(waits, time.Since(start))
		if err := <-long; err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(waits)
	if median := waits[len(waits)/2]; median > 50*time.Millisecond {
		t.Fatalf("a quick task beside a long one took %v (median; all %v)", median, waits)
	}
}

// Lone and shared tasks, Maps stopped early, callers that give up and
// workers that die, all at once: every call returns in time with its
// own outcome (a task beside a crash may fail with its worker), whoever
// holds each worker's baton when its task ends.
func TestBatonUnderMixedLoad(t *testing.T) {
	p := newPool(t, tester, &pool.Options{Size: 2, Concurrency: 2, CancelGrace: 5 * time.Second, Child: quiet()})
	deadline := time.Now().Add(3 * time.Second)
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 3))
			for i := 0; time.Now().Before(deadline); i++ {
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				v := strconv.Itoa(g*100000 + i)
				switch op := r.IntN(10); {
				case op < 5:
					if got, err := p.Do(ctx, job{Value: v}); !died(err) && (err != nil || got != v) {
						t.Errorf("caller %d: Do: %q, %v", g, got, err)
					}
				case op < 7:
					reqs := []job{{Value: v + "a"}, {Value: v + "b", Sleep: time.Duration(r.IntN(3)) * time.Millisecond}, {Value: v + "c"}}
					n, stop := 0, r.IntN(4)
					for got, err := range p.Map(ctx, slices.Values(reqs)) {
						if !died(err) && (err != nil || got != reqs[n].Value) {
							t.Errorf("caller %d: Map's answer %d: %q, %v", g, n, got, err)
						}
						if n++; n == stop {
							break
						}
					}
				case op < 9:
					short, scancel := context.WithTimeout(ctx, time.Duration(r.IntN(3000))*time.Microsecond)
					got, err := p.Do(short, job{Value: v, Sleep: time.Duration(r.IntN(3000)) * time.Microsecond})
					scancel()
					if err == nil && got != v || err != nil && !errors.Is(err, context.DeadlineExceeded) && !died(err) {
						t.Errorf("caller %d: a Do given up: %q, %v", g, got, err)
					}
				default:
					if _, err := p.Do(ctx, job{Exit: 3}); !died(err) {
						t.Errorf("caller %d: a crash: %v", g, err)
					}
				}
				cancel()
				if t.Failed() {
					return
				}
			}
		})
	}
	wg.Wait()
	eventually(t, 10*time.Second, "every task answered", func() bool { s := p.Stats(); return s.Busy == 0 && s.Workers == 2 })
}

// died reports whether err is a task's failure with its worker.
func died(err error) bool {
	var we *pool.WorkerError
	return errors.As(err, &we)
}
