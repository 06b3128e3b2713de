// Command workers forks Go entry points of its own binary and feeds them
// work over IPC: the Go counterpart of forking a Node module.
//
// The parent forks one worker per CPU into the "primes" entry (the same
// binary, re-executed; no second program to build), hands out ranges of
// numbers as messages, and each worker answers with the count of primes
// in its range. A worker takes the next range as soon as it has answered.
//
//	go run ./examples/workers
//	go run ./examples/workers -n 20000000 -chunk 500000
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/childproc/childproc"
	"github.com/childproc/childproc/ipc"
)

// task and result are the messages between parent and workers.
type task struct{ From, To int }

type result struct {
	From, To, Primes, Pid int
}

// primes is the entry point the workers run.
var primes = childproc.RegisterEntry("primes", func(ctx context.Context, ch *ipc.Channel, args []string) error {
	for {
		m, err := ch.Recv(ctx)
		if err != nil {
			return nil // the parent is done with us
		}
		var t task
		if err := m.Decode(&t); err != nil {
			return err
		}
		n := 0
		for v := max(t.From, 2); v < t.To; v++ {
			if isPrime(v) {
				n++
			}
		}
		if err := ch.Send(result{t.From, t.To, n, os.Getpid()}); err != nil {
			return err
		}
	}
})

func main() {
	childproc.RunEntry() // a forked worker runs its entry here and exits
	limit := flag.Int("n", 5_000_000, "count the primes below `n`")
	chunk := flag.Int("chunk", 250_000, "numbers per task")
	workers := flag.Int("workers", runtime.NumCPU(), "number of worker processes")
	flag.Parse()
	start := time.Now()
	tasks := make(chan task)
	go func() {
		for from := 0; from < *limit; from += *chunk {
			tasks <- task{from, min(from+*chunk, *limit)}
		}
		close(tasks)
	}()
	var (
		mu     sync.Mutex
		total  int
		byPid  = map[int]int{}
		failed bool
		wg     sync.WaitGroup
	)
	fail := func(what string, err error) {
		fmt.Fprintln(os.Stderr, what+":", err)
		mu.Lock()
		failed = true
		mu.Unlock()
	}
	for i := 0; i < *workers; i++ {
		c, err := childproc.ForkEntry(context.Background(), primes, nil, nil)
		if err != nil {
			fmt.Fprintln(os.Stderr, "workers:", err)
			os.Exit(1)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := range tasks {
				if err := c.Send(t); err != nil {
					fail("send", err)
					return
				}
				m, err := c.Recv(context.Background())
				if err != nil {
					fail("recv", err)
					return
				}
				var r result
				m.Decode(&r)
				mu.Lock()
				total += r.Primes
				byPid[r.Pid]++
				mu.Unlock()
			}
			c.Disconnect() // the worker's Recv sees EOF and it exits
			if err := c.Wait(); err != nil {
				fail("worker", err)
			}
		}()
	}
	wg.Wait()
	for pid, n := range byPid {
		fmt.Printf("worker pid %d did %d tasks\n", pid, n)
	}
	fmt.Printf("%d primes below %d, counted by %d forked Go workers in %v\n",
		total, *limit, *workers, time.Since(start).Round(time.Millisecond))
	if failed {
		os.Exit(1)
	}
}

func isPrime(v int) bool {
	if v%2 == 0 {
		return v == 2
	}
	for d := 3; d*d <= v; d += 2 {
		if v%d == 0 {
			return false
		}
	}
	return true
}
