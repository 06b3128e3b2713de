//go:build linux

package bench

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/childproc/childproc"
	"github.com/childproc/childproc/pool"
)

// The pool's benchmarks: the trivial task of the peers ({a,b} -> a+b,
// ../shared/bench/node_pool.sh and python_pool.py), a single Do on an
// idle pool, CPU-bound tasks on 1 and 2 workers, and starting a pool.

type sum struct {
	A int `json:"a"`
	B int `json:"b"`
}

var poolAdd = pool.Register("bench-add", func(ctx context.Context, s sum) (int, error) {
	return s.A + s.B, nil
})

// poolBusy works for about n iterations of a small loop (n=1 is ~1 ns
// per iteration on these machines).
var poolBusy = pool.Register("bench-busy", func(ctx context.Context, n int) (float64, error) {
	x := 0.0
	for i := range n {
		x += math.Sqrt(float64(i))
	}
	return x, nil
})

// drive runs b.N tasks through do with inflight kept in flight.
func drive(b *testing.B, inflight int, do func() error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, inflight)
	n := int64(b.N)
	b.ResetTimer()
	for range inflight {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= n {
				if err := do(); err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tasks/s")
	select {
	case err := <-errc:
		b.Fatal(err)
	default:
	}
}

// BenchmarkPoolTrivial: the peers' trivial task, 2 workers, 64 tasks in
// flight (32 per worker), with Go workers (and Node and Python workers
// where their helpers are present).
func BenchmarkPoolTrivial(b *testing.B) {
	workers := map[string]pool.Worker[sum, int]{
		"go":     poolAdd,
		"node":   pool.Script[sum, int]("../pool/testdata/add.js"),
		"python": pool.Script[sum, int]("../pool/testdata/add.py"),
	}
	for _, name := range []string{"go", "node", "python"} {
		b.Run(name, func(b *testing.B) {
			p, err := pool.New(workers[name], &pool.Options{Size: 2, Concurrency: 32})
			if err != nil {
				b.Skipf("no %s worker: %v", name, err)
			}
			defer p.Close()
			ctx := context.Background()
			resetPeakRSS()
			drive(b, 64, func() error {
				got, err := p.Do(ctx, sum{4, 6})
				if err == nil && got != 10 {
					err = fmt.Errorf("4+6 = %d", got)
				}
				return err
			})
			b.ReportMetric(peakRSSMB(), "peakRSS-MB")
		})
	}
}

// BenchmarkPoolDo: one Do at a time on an idle pool, the latency of a
// task (compare with BenchmarkIPCRoundTrip/childproc).
func BenchmarkPoolDo(b *testing.B) {
	p, err := pool.New(poolAdd, &pool.Options{Size: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	ctx := context.Background()
	for b.Loop() {
		if _, err := p.Do(ctx, sum{1, 2}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPoolCPU: tasks of about 5 ms of CPU on 1 and on 2 workers,
// 4 in flight.
func BenchmarkPoolCPU(b *testing.B) {
	for _, size := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", size), func(b *testing.B) {
			p, err := pool.New(poolBusy, &pool.Options{Size: size})
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			ctx := context.Background()
			drive(b, 4, func() error {
				_, err := p.Do(ctx, 2_500_000)
				return err
			})
		})
	}
}

// BenchmarkPoolStart: New with Size workers, against Size ForkEntry
// calls one after the other, each until the child has answered once.
func BenchmarkPoolStart(b *testing.B) {
	for _, size := range []int{2, 4, 8} {
		b.Run(fmt.Sprintf("size=%d/pool", size), func(b *testing.B) {
			for b.Loop() {
				p, err := pool.New(poolAdd, &pool.Options{Size: size})
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				p.Close()
				b.StartTimer()
			}
		})
		b.Run(fmt.Sprintf("size=%d/sequential", size), func(b *testing.B) {
			for b.Loop() {
				var cs []*childproc.Child
				for range size {
					c, err := childproc.ForkEntry(context.Background(), echoEntry, nil, nil)
					if err != nil {
						b.Fatal(err)
					}
					if err := c.Send(rtMsg{I: 1}); err != nil {
						b.Fatal(err)
					}
					if _, err := c.Recv(context.Background()); err != nil {
						b.Fatal(err)
					}
					cs = append(cs, c)
				}
				b.StopTimer()
				for _, c := range cs {
					c.Disconnect()
					c.Wait()
				}
				b.StartTimer()
			}
		})
	}
}

// BenchmarkPoolDoVsRoundTrip: BenchmarkPoolDo and
// BenchmarkIPCRoundTrip/childproc taking turns, 1000 operations each, so
// that both see the same load on a shared machine; it reports the
// latency of each, their ratio (do/rtt), and the median of the ratios of
// the turns taken one after the other (do/rtt-turns), which a slow spell
// of the machine during a few turns moves least. b.N counts the
// operations of each.
func BenchmarkPoolDoVsRoundTrip(b *testing.B) {
	p, err := pool.New(poolAdd, &pool.Options{Size: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	c, err := childproc.ForkEntry(context.Background(), echoEntry, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Wait()
	defer c.Disconnect()
	ctx := context.Background()
	const turn = 1000
	var doTime, rttTime time.Duration
	var ratios []float64
	b.ResetTimer()
	for done := 0; done < b.N; done += turn {
		n := min(turn, b.N-done)
		start := time.Now()
		for range n {
			if _, err := p.Do(ctx, sum{1, 2}); err != nil {
				b.Fatal(err)
			}
		}
		do := time.Since(start)
		start = time.Now()
		for i := range n {
			roundTrip(ctx, b, c, i)
		}
		rtt := time.Since(start)
		doTime, rttTime = doTime+do, rttTime+rtt
		ratios = append(ratios, float64(do)/float64(rtt))
	}
	slices.Sort(ratios)
	b.ReportMetric(float64(doTime.Nanoseconds())/float64(b.N)/1000, "do-µs")
	b.ReportMetric(float64(rttTime.Nanoseconds())/float64(b.N)/1000, "rtt-µs")
	b.ReportMetric(float64(doTime)/float64(rttTime), "do/rtt")
	b.ReportMetric(ratios[len(ratios)/2], "do/rtt-turns")
}
