//go:build linux

package bench

import (
	"bufio"
	"context"
	"fmt"
	"iter"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/childproc/childproc"
	"github.com/childproc/childproc/cluster"
	"github.com/childproc/childproc/pool"
)

// The cluster's benchmarks, each against a local pool in the same run:
// CPU-bound tasks of about 10 ms on 2 worker processes, trivial tasks
// (throughput), one Do at a time (latency), and tasks that sleep 10 ms
// on N worker processes of one worker each (scale). The server is the
// embedded one, with its file store; each worker is a process of its
// own (this binary run again) serving a local pool.

var poolSleep = pool.Register("bench-sleep", func(ctx context.Context, d time.Duration) (int, error) {
	time.Sleep(d)
	return 0, nil
})

// clusterWorkerEnv holds a worker process's settings: the server's URL,
// its token, the pool's name, the worker's kind (add, busy, sleep), its
// local pool's Size and Concurrency, Serve's Slots, and the streams'
// storage (file, memory).
const clusterWorkerEnv = "CHILDPROC_BENCH_CLUSTER_WORKER"

// clusterWorker is the body of a worker process.
func clusterWorker() int {
	f := strings.Fields(os.Getenv(clusterWorkerEnv))
	if len(f) != 8 {
		fmt.Fprintln(os.Stderr, "bad", clusterWorkerEnv)
		return 2
	}
	size, _ := strconv.Atoi(f[4])
	conc, _ := strconv.Atoi(f[5])
	slots, _ := strconv.Atoi(f[6])
	nc, err := cluster.Connect(f[0], nats.Token(f[1]))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer nc.Close()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	lo := &pool.Options{Size: size, Concurrency: conc}
	o := &cluster.Options{Slots: slots, Storage: storageOf(f[7])}
	switch f[3] {
	case "add":
		err = serveWith(ctx, nc, f[2], poolAdd, lo, o)
	case "busy":
		err = serveWith(ctx, nc, f[2], poolBusy, lo, o)
	case "sleep":
		err = serveWith(ctx, nc, f[2], poolSleep, lo, o)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func storageOf(s string) jetstream.StorageType {
	if s == "memory" {
		return jetstream.MemoryStorage
	}
	return jetstream.FileStorage
}

func serveWith[Req, Resp any](ctx context.Context, nc *nats.Conn, name string, w pool.Worker[Req, Resp], lo *pool.Options, o *cluster.Options) error {
	local, err := pool.New(w, lo)
	if err != nil {
		return err
	}
	defer local.Close()
	fmt.Println("serving")
	return cluster.Serve(ctx, nc, name, local, o)
}

// A clusterBench is an embedded server with worker processes.
type clusterBench struct {
	srv     *cluster.Server
	nc      *nats.Conn
	workers []*childproc.Child
}

// newClusterBench starts the server and n worker processes of the given
// kind, local pool size, concurrency and slots, serving pool name with
// its streams in storage.
func newClusterBench(b *testing.B, name, kind string, n, size, conc, slots int, storage string) *clusterBench {
	b.Helper()
	srv, err := cluster.StartServer(&cluster.ServerOptions{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	cb := &clusterBench{srv: srv}
	b.Cleanup(cb.close)
	if cb.nc, err = srv.Connect(); err != nil {
		b.Fatal(err)
	}
	exe, _ := os.Executable()
	env := fmt.Sprintf("%s=%s %s %s %s %d %d %d %s", clusterWorkerEnv, srv.URL(), srv.Token(), name, kind, size, conc, slots, storage)
	for range n {
		c, err := childproc.Spawn(context.Background(), exe, nil, &childproc.Options{
			Env:   append(os.Environ(), env),
			Stdio: []any{childproc.Ignore, childproc.Pipe, childproc.Inherit},
		})
		if err != nil {
			b.Fatal(err)
		}
		cb.workers = append(cb.workers, c)
		if line, _ := bufio.NewReader(c.Stdout).ReadString('\n'); line != "serving\n" {
			b.Fatalf("a worker said %q", line)
		}
	}
	return cb
}

func (cb *clusterBench) close() {
	for _, c := range cb.workers {
		c.Kill(syscall.SIGTERM)
	}
	for _, c := range cb.workers {
		c.Wait()
	}
	if cb.nc != nil {
		cb.nc.Close()
	}
	cb.srv.Close()
}

// newClusterPool returns a submitter of pool name, having run warm tasks
// through it so that every worker is pulling.
func newClusterPool[Req, Resp any](b *testing.B, cb *clusterBench, name string, warm Req, n int) *cluster.Pool[Req, Resp] {
	b.Helper()
	p, err := cluster.New[Req, Resp](cb.nc, name, nil) // the workers made the streams
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { p.Close() })
	for _, err := range p.Map(context.Background(), repeat(warm, n)) {
		if err != nil {
			b.Fatal(err)
		}
	}
	return p
}

// repeat yields v n times.
func repeat[T any](v T, n int) iter.Seq[T] {
	return func(yield func(T) bool) {
		for range n {
			if !yield(v) {
				return
			}
		}
	}
}

// mapAll runs b.N copies of req through Map and reports tasks/s.
func mapAll[Req, Resp any](b *testing.B, p interface {
	Map(context.Context, iter.Seq[Req]) iter.Seq2[Resp, error]
}, req Req) {
	b.ResetTimer()
	for _, err := range p.Map(context.Background(), repeat(req, b.N)) {
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tasks/s")
}

// BenchmarkClusterCPU: tasks of about 10 ms of CPU, 4 in flight, on a
// local pool of 2 workers and on 2 worker processes of one worker each.
// Each worker process serves 2 slots for its one worker, so that the
// next task waits in its local pool while one runs, instead of being
// pulled only once the slot is free (with 1 slot the pull's round trip
// is idle time between tasks).
func BenchmarkClusterCPU(b *testing.B) {
	const work = 5_000_000
	b.Run("local", func(b *testing.B) {
		p, err := pool.New(poolBusy, &pool.Options{Size: 2})
		if err != nil {
			b.Fatal(err)
		}
		defer p.Close()
		drive(b, 4, func() error {
			_, err := p.Do(context.Background(), work)
			return err
		})
	})
	b.Run("cluster", func(b *testing.B) {
		cb := newClusterBench(b, "cpu", "busy", 2, 1, 1, 2, "file")
		p := newClusterPool[int, float64](b, cb, "cpu", 1000, 20)
		drive(b, 4, func() error {
			_, err := p.Do(context.Background(), work)
			return err
		})
	})
}

// BenchmarkClusterTrivial: the trivial task, through Map, on a local
// pool of 2 workers running 32 tasks each and on 2 worker processes
// whose local pools do the same (one worker, 32 tasks, 64 slots), with
// the streams in files (the default) and in memory.
func BenchmarkClusterTrivial(b *testing.B) {
	b.Run("local", func(b *testing.B) {
		p, err := pool.New(poolAdd, &pool.Options{Size: 2, Concurrency: 32})
		if err != nil {
			b.Fatal(err)
		}
		defer p.Close()
		mapAll[sum, int](b, p, sum{1, 2})
	})
	for _, storage := range []string{"file", "memory"} {
		b.Run("cluster-"+storage, func(b *testing.B) {
			cb := newClusterBench(b, "trivial", "add", 2, 1, 32, 64, storage)
			p := newClusterPool[sum, int](b, cb, "trivial", sum{1, 2}, 1000)
			mapAll[sum, int](b, p, sum{1, 2})
		})
	}
}

// BenchmarkClusterDo: one Do at a time on an idle local pool of one
// worker and on one worker process; reports the latency's p50 and p99.
func BenchmarkClusterDo(b *testing.B) {
	b.Run("local", func(b *testing.B) {
		p, err := pool.New(poolAdd, &pool.Options{Size: 1})
		if err != nil {
			b.Fatal(err)
		}
		defer p.Close()
		latencies(b, func() error { _, err := p.Do(context.Background(), sum{1, 2}); return err })
	})
	b.Run("cluster", func(b *testing.B) {
		cb := newClusterBench(b, "do", "add", 1, 1, 1, 1, "file")
		p := newClusterPool[sum, int](b, cb, "do", sum{1, 2}, 100)
		latencies(b, func() error { _, err := p.Do(context.Background(), sum{1, 2}); return err })
	})
}

// latencies runs do b.N times, one after the other, and reports the
// p50 and p99 of its durations.
func latencies(b *testing.B, do func() error) {
	d := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		if err := do(); err != nil {
			b.Fatal(err)
		}
		d = append(d, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(d)
	b.ReportMetric(float64(d[len(d)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(d[len(d)*99/100].Microseconds()), "p99-µs")
}

// BenchmarkClusterScale: tasks that sleep 10 ms on N worker processes of
// one worker each; throughput should grow as N.
func BenchmarkClusterScale(b *testing.B) {
	for _, n := range []int{1, 2, 4, 8} {
		b.Run(fmt.Sprintf("workers=%d", n), func(b *testing.B) {
			cb := newClusterBench(b, "scale", "sleep", n, 1, 1, 1, "file")
			p := newClusterPool[time.Duration, int](b, cb, "scale", 0, 4*n)
			mapAll[time.Duration, int](b, p, 10*time.Millisecond)
		})
	}
}
