package cluster_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/childproc/childproc/cluster"
)

// TestCancelFloodBounded: a client that floods childproc.N.cancel.> with
// cancellations of tasks that do not exist (500,000 of them, with batch
// names as long as a Pool's own) does not make a worker hold them all
// for a minute: what the worker remembers stays bounded (the oldest
// cancellations are forgotten first), the worker still cancels a
// running task it is told to cancel after the flood, and remembers a
// cancellation that comes after the flood.
func TestCancelFloodBounded(t *testing.T) {
	const flood = 500_000
	srv := startServer(t)
	nc := connect(t, srv)
	serveFunc(t, nc, "flood", &cluster.Options{Slots: 1})
	p := newPool(t, nc, "flood", nil)
	runs := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	mapped := make(chan struct{})
	go func() {
		defer close(mapped)
		for range p.MapBatch(ctx, "sentinel", jobs(1, func(int) job { return job{Sleep: time.Minute, Runs: runs} })) {
		}
	}()
	waitFor(t, 10*time.Second, "the sentinel task running", func() bool { return len(runsOf(t, runs)) == 1 })
	before := heapInUse()

	hostile := connect(t, srv)
	for i := range flood {
		if err := hostile.Publish(fmt.Sprintf("childproc.flood.cancel.pQ3ZtyyZ0k4EnB8Wb1qNqA%d.%d", i%7, i), nil); err != nil {
			t.Fatal(err)
		}
		if i%10_000 == 0 {
			hostile.Flush()
		}
	}
	// Cancellations reach the worker in the order they were sent: once
	// the sentinel is cancelled, the worker has taken in the flood and
	// the cancellation of task after.0, not yet submitted.
	if err := hostile.Publish("childproc.flood.cancel.after.0", nil); err != nil {
		t.Fatal(err)
	}
	if err := hostile.Publish("childproc.flood.cancel.sentinel.0", nil); err != nil {
		t.Fatal(err)
	}
	hostile.Flush()
	waitFor(t, time.Minute, "the sentinel cancelled", func() bool {
		st, err := p.Batch(context.Background(), "sentinel")
		return err == nil && len(st.Queued) == 0
	})
	grown := heapInUse() - before
	t.Logf("heap grew by %.1f MiB after %d cancellations", float64(grown)/(1<<20), flood)
	if grown > 16<<20 {
		t.Errorf("the heap grew by %.1f MiB after a flood of %d cancellations, want at most 16 MiB: the worker holds what it remembers unbounded", float64(grown)/(1<<20), flood)
	}
	cancel()
	<-mapped

	after := t.TempDir()
	actx, acancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer acancel()
	for range p.MapBatch(actx, "after", jobs(2, func(int) job { return job{Runs: after} })) {
	}
	if r := runsOf(t, after); len(r) != 1 || r[1] != 1 {
		t.Errorf("runs %v after the flood, want task 1 once and task 0, cancelled before it came, not at all", r)
	}
}

// cancelAhead sends the cancellation on subject, of a task not yet
// submitted, and gives the workers time to take it in.
func cancelAhead(t *testing.T, nc *nats.Conn, subject string) {
	t.Helper()
	if err := nc.Publish(subject, nil); err != nil {
		t.Fatal(err)
	}
	nc.Flush()
	time.Sleep(200 * time.Millisecond)
}

// heapInUse returns the bytes of live heap, after a collection.
func heapInUse() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}
