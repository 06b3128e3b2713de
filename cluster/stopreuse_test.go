package cluster_test

import (
	"context"
	"testing"
	"time"

	"github.com/childproc/childproc/cluster"
)

// TestMapBrokenEarlyPoolGoesOn: a Map whose loop is broken after its
// first result, with 4 tasks running and 30 queued, starts none of the
// queued ones; the same Pool then runs a Do and another Map at once,
// each task once.
func TestMapBrokenEarlyPoolGoesOn(t *testing.T) {
	srv := startServer(t)
	nc := connect(t, srv)
	serveFunc(t, nc, "reuse", &cluster.Options{Slots: 2})
	serveFunc(t, nc, "reuse", &cluster.Options{Slots: 2})
	p := newPool(t, nc, "reuse", nil)
	runs := t.TempDir()
	long := func(i int) job {
		if i == 0 {
			return job{Runs: runs, Sleep: 300 * time.Millisecond}
		}
		return job{Runs: runs, Sleep: time.Minute}
	}
	for a, err := range p.Map(context.Background(), jobs(35, long)) {
		if err != nil || a.N != 0 {
			t.Fatalf("the first result: %+v, %v", a, err)
		}
		break
	}
	time.Sleep(500 * time.Millisecond) // for a task that a worker took to start
	r := runsOf(t, runs)
	if len(r) > 5 || r[0] != 1 {
		t.Errorf("runs %v after the break: want task 0 and at most the 3 others running then, plus the one that task 0's slot took", r)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if a, err := p.Do(ctx, job{N: 100}); err != nil || a.N != 100 {
		t.Fatalf("Do after the break: %+v, %v", a, err)
	}
	again := t.TempDir()
	n := 0
	for a, err := range p.Map(ctx, jobs(8, func(int) job { return job{Runs: again} })) {
		if err != nil || a.N != n {
			t.Fatalf("result %d of the next Map: %+v, %v", n, a, err)
		}
		n++
	}
	if r := runsOf(t, again); len(r) != 8 {
		t.Errorf("the next Map's runs: %v, want each of its 8 tasks once", r)
	}
}

// TestTwoPoolsOneNameStopApart: of two Pools of the same name, one that
// stops (its Map's ctx ends, then Close) removes and cancels its own
// tasks only: every task of the other runs, once, and yields its
// result.
func TestTwoPoolsOneNameStopApart(t *testing.T) {
	srv := startServer(t)
	nc := connect(t, srv)
	serveFunc(t, nc, "twins", &cluster.Options{Slots: 2})
	a := newPool(t, nc, "twins", nil)
	b := newPool(t, nc, "twins", nil)
	aruns, bruns := t.TempDir(), t.TempDir()
	actx, acancel := context.WithCancel(context.Background())
	adone := make(chan struct{})
	go func() {
		defer close(adone)
		for range a.Map(actx, jobs(20, func(int) job { return job{Runs: aruns, Sleep: time.Minute} })) {
		}
	}()
	waitFor(t, 10*time.Second, "a's tasks running", func() bool { return len(runsOf(t, aruns)) == 2 })
	bctx, bcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer bcancel()
	bdone := make(chan int)
	go func() {
		n := 0
		for r, err := range b.Map(bctx, jobs(20, func(int) job { return job{Runs: bruns, Sleep: 10 * time.Millisecond} })) {
			if err != nil || r.N != n {
				t.Errorf("b's result %d: %+v, %v", n, r, err)
			}
			n++
		}
		bdone <- n
	}()
	time.Sleep(200 * time.Millisecond) // b's tasks are queued behind a's
	acancel()
	<-adone
	a.Close()
	if n := <-bdone; n != 20 {
		t.Errorf("b yielded %d results, want 20", n)
	}
	for i, c := range runsOf(t, bruns) {
		if c != 1 {
			t.Errorf("b's task %d ran %d times", i, c)
		}
	}
	if r := runsOf(t, aruns); len(r) != 2 {
		t.Errorf("a's runs %v, want only the 2 running at its stop", r)
	}
}
