// Command fanout spreads a CPU-heavy job over child processes with
// childproc and prints what each child did.
//
// It counts the primes below a limit: the range is cut into one slice per
// worker, each slice is counted by a child process (this same program,
// run again with -worker), and the parent gathers the children's buffered
// output, exit status and resource usage.
//
//	go run ./examples/fanout
//	go run ./examples/fanout -n 20000000 -workers 4
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/childproc/childproc"
)

func main() {
	limit := flag.Int("n", 5_000_000, "count the primes below `n`")
	workers := flag.Int("workers", runtime.NumCPU(), "number of child processes")
	worker := flag.Bool("worker", false, "internal: count the primes in [from, to) given as arguments")
	timeout := flag.Duration("timeout", time.Minute, "kill a worker that runs longer")
	flag.Parse()
	if *worker {
		os.Exit(runWorker(flag.Args()))
	}
	os.Exit(runParent(*limit, *workers, *timeout))
}

// runParent starts the workers, waits for all of them and prints a report.
func runParent(limit, workers int, timeout time.Duration) int {
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, "fanout:", err)
		return 1
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := time.Now()
	type result struct {
		from, to int
		child    *childproc.Child
		out      []byte
		err      error
	}
	results := make([]result, workers)
	var wg sync.WaitGroup
	step := (limit + workers - 1) / workers
	for i := range results {
		from, to := i*step, min((i+1)*step, limit)
		results[i].from, results[i].to = from, to
		c, err := childproc.ExecFile(ctx, self, []string{"-worker", strconv.Itoa(from), strconv.Itoa(to)},
			&childproc.Options{Timeout: timeout})
		if err != nil {
			results[i].err = err
			continue
		}
		results[i].child = c
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i].out, _, results[i].err = c.Output()
		}()
	}
	wg.Wait()
	total, failed := 0, 0
	for i, r := range results {
		if r.err != nil {
			failed++
			fmt.Printf("worker %d [%d, %d): failed: %v\n", i, r.from, r.to, r.err)
			continue
		}
		n, _ := strconv.Atoi(strings.TrimSpace(string(r.out)))
		total += n
		ru := r.child.Rusage()
		fmt.Printf("worker %d pid %-7d [%10d, %10d): %8d primes, exit %d, cpu %v, peak RSS %.1f MiB\n",
			i, r.child.Pid(), r.from, r.to, n, r.child.ExitCode(),
			(ru.UserTime + ru.SystemTime).Round(time.Millisecond), float64(ru.MaxRSS)/(1<<20))
	}
	fmt.Printf("%d primes below %d, counted by %d child processes in %v\n",
		total, limit, workers, time.Since(start).Round(time.Millisecond))
	if failed > 0 {
		return 1
	}
	return 0
}

// runWorker counts the primes in [from, to) and prints the count.
func runWorker(args []string) int {
	if len(args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: fanout -worker FROM TO")
		return 2
	}
	from, err1 := strconv.Atoi(args[0])
	to, err2 := strconv.Atoi(args[1])
	if err1 != nil || err2 != nil || from < 0 || to < from {
		fmt.Fprintln(os.Stderr, "fanout: bad range", args)
		return 2
	}
	n := 0
	for v := max(from, 2); v < to; v++ {
		if isPrime(v) {
			n++
		}
	}
	fmt.Println(n)
	return 0
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
