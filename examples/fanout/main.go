// Command fanout counts the primes below a limit on a pool of worker
// processes, one per core, and survives the crash of one of them.
//
// The range is cut into slices; each slice is a task for the pool
// (package pool), run by a worker that is this same program forked into
// a Go entry point. Part-way through, the demo SIGKILLs one worker, as
// an out-of-memory killer would: the tasks it was running are retried
// on the others, a replacement starts, and the count comes out right.
// On a terminal a progress line shows how far it got; otherwise a log
// line is printed every second.
//
//	go run ./examples/fanout
//	go run ./examples/fanout -n 40000000 -workers 4 -slices 400
package main

import (
	"context"
	"flag"
	"fmt"
	"iter"
	"math"
	"os"
	"runtime"
	"time"

	"github.com/childproc/childproc"
	"github.com/childproc/childproc/pool"
)

// A span is one task: count the primes in [From, To).
type span struct{ From, To int }

// A count is a task's answer, with the worker that ran it and its CPU time.
type count struct {
	Primes int
	Pid    int
	CPU    time.Duration
}

var counter = pool.Register("primes", func(ctx context.Context, s span) (count, error) {
	start := time.Now()
	n := 0
	for i := s.From; i < s.To; i++ {
		if isPrime(i) {
			n++
		}
		if i%100_000 == 0 && ctx.Err() != nil {
			return count{}, ctx.Err()
		}
	}
	return count{Primes: n, Pid: os.Getpid(), CPU: time.Since(start)}, nil
})

func isPrime(n int) bool {
	if n < 2 {
		return false
	}
	if n%2 == 0 {
		return n == 2
	}
	for d := 3; d <= int(math.Sqrt(float64(n))); d += 2 {
		if n%d == 0 {
			return false
		}
	}
	return true
}

func main() {
	childproc.RunEntry()
	limit := flag.Int("n", 10_000_000, "count the primes below `n`")
	workers := flag.Int("workers", runtime.NumCPU(), "worker processes")
	slices := flag.Int("slices", 200, "tasks to cut the range into")
	crash := flag.Bool("crash", true, "SIGKILL one worker a third of the way through")
	flag.Parse()
	if err := run(*limit, *workers, *slices, *crash); err != nil {
		fmt.Fprintln(os.Stderr, "fanout:", err)
		os.Exit(1)
	}
}

func run(limit, workers, slices int, crash bool) error {
	start := time.Now()
	p, err := pool.New(counter, &pool.Options{Size: workers, Retries: 2})
	if err != nil {
		return err
	}
	defer p.Close()
	fmt.Printf("%d workers ready in %v\n", workers, time.Since(start).Round(time.Millisecond))

	prog := newProgress(slices)
	total, killed := 0, 0
	var cpu time.Duration
	pids := map[int]bool{}
	i := 0
	for c, err := range p.Map(context.Background(), spans(limit, slices)) {
		if err != nil {
			return fmt.Errorf("slice %d: %w", i, err)
		}
		i++
		total += c.Primes
		cpu += c.CPU
		pids[c.Pid] = true
		if crash && killed == 0 && i >= slices/3 {
			if p, err := os.FindProcess(c.Pid); err == nil {
				p.Kill() // SIGKILL; TerminateProcess on Windows
			}
			killed = c.Pid
			prog.note(fmt.Sprintf("killed worker %d with SIGKILL", c.Pid))
		}
		prog.update(i, p.Stats())
	}
	prog.done()
	wall := time.Since(start)
	s := p.Stats()
	fmt.Printf("%d primes below %d in %v: %d tasks on %d worker processes (%d replaced, %d started in all)\n",
		total, limit, wall.Round(time.Millisecond), s.Done, workers, s.Restarts, len(pids))
	fmt.Printf("CPU time in the workers %v: %.1f× the wall time\n", cpu.Round(time.Millisecond), cpu.Seconds()/wall.Seconds())
	if killed != 0 {
		fmt.Printf("worker %d was killed mid-run; its tasks were retried and no task failed (failed: %d)\n", killed, s.Failed)
	}
	return p.Shutdown(context.Background())
}

// spans cuts [0, limit) into n slices.
func spans(limit, n int) iter.Seq[span] {
	return func(yield func(span) bool) {
		step := (limit + n - 1) / n
		for from := 0; from < limit; from += step {
			if !yield(span{from, min(from+step, limit)}) {
				return
			}
		}
	}
}

// progress shows how far the run got: a line redrawn in place on a
// terminal, a log line per second otherwise.
type progress struct {
	total int
	tty   bool
	start time.Time
	last  time.Time
}

func newProgress(total int) *progress {
	fi, err := os.Stderr.Stat()
	tty := err == nil && fi.Mode()&os.ModeCharDevice != 0
	return &progress{total: total, tty: tty, start: time.Now(), last: time.Now()}
}

func (p *progress) update(done int, s pool.Stats) {
	line := fmt.Sprintf("%3d%% %d/%d tasks, %d busy workers, %d restarted, %.1fs",
		100*done/p.total, done, p.total, s.Busy, s.Restarts, time.Since(p.start).Seconds())
	switch {
	case p.tty:
		fmt.Fprintf(os.Stderr, "\r%s\x1b[K", line)
	case time.Since(p.last) >= time.Second:
		fmt.Fprintln(os.Stderr, line)
		p.last = time.Now()
	}
}

func (p *progress) note(msg string) {
	if p.tty {
		fmt.Fprintf(os.Stderr, "\r\x1b[K%s\n", msg)
		return
	}
	fmt.Fprintln(os.Stderr, msg)
}

func (p *progress) done() {
	if p.tty {
		fmt.Fprint(os.Stderr, "\r\x1b[K")
	}
}
