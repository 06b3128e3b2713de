//go:build linux

package pool_test

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/childproc/childproc/pool"
)

// chaos runs tasks tasks through a pool of 4 workers while kills workers
// are SIGKILLed at random moments (one after about every tasks/kills
// answers), and checks that every Do returned exactly once with the
// right answer (Retries: 3), that the pool ends at full size, and that
// no process, fd or goroutine is left.
func chaos(tb testing.TB, tasks, kills int) {
	warm, err := pool.New(adder, &pool.Options{Size: 1})
	if err != nil {
		tb.Fatal(err)
	}
	warm.Close() // the guardian's lasting fds and goroutine
	fds := countFDs(tb)
	goroutines := runtime.NumGoroutine()

	const size = 4
	p, err := pool.New(adder, &pool.Options{Size: size, Concurrency: 4, Retries: 3, Child: quiet()})
	if err != nil {
		tb.Fatal(err)
	}
	var answered, wrong, failed atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	var next atomic.Int64
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)); i <= tasks; i = int(next.Add(1)) {
				got, err := p.Do(context.Background(), addReq{i, 1})
				answered.Add(1)
				switch {
				case err != nil:
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err)
				case got != i+1:
					wrong.Add(1)
				}
			}
		}()
	}
	killed := killAtRandom(tb, &answered, int64(tasks), kills)
	wg.Wait()
	if failed.Load() > 0 || wrong.Load() > 0 || answered.Load() != int64(tasks) {
		tb.Fatalf("%d tasks: %d answered, %d failed (first: %v), %d wrong", tasks, answered.Load(), failed.Load(), firstErr.Load(), wrong.Load())
	}
	deadline := time.Now().Add(10 * time.Second)
	for p.Stats().Workers != size && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	s := p.Stats()
	if s.Workers != size || s.Done != int64(tasks) {
		tb.Fatalf("after the chaos: %+v", s)
	}
	tb.Logf("%d tasks, %d workers killed: %+v", tasks, killed, s)
	p.Close()
	if pids := childPids(tb); len(pids) != 0 {
		tb.Fatalf("processes left: %v", pids)
	}
	if n := countFDs(tb); n > fds {
		tb.Fatalf("fds: %d before, %d after", fds, n)
	}
	goleak.VerifyNone(tb, goleak.IgnoreAnyFunction("github.com/childproc/childproc/internal/guardian.reapGuardian"),
		goleak.IgnoreTopFunction("testing.(*T).Run"), goleak.IgnoreTopFunction("testing.(*B).run1"),
		goleak.IgnoreTopFunction("testing.(*B).doBench"), goleak.IgnoreTopFunction("testing.runTests"),
		goleak.IgnoreTopFunction("testing.(*B).Run"), goleak.IgnoreTopFunction("testing.(*T).Parallel"),
		goleak.IgnoreCurrent())
	_ = goroutines
}

// killAtRandom SIGKILLs a random worker (ready or still starting) each
// time about total/kills more tasks have been answered, and returns how
// many it killed. A killer that fell behind (descheduled on a loaded
// machine) catches up with kills in a row, which kill workers and their
// replacements as they start.
func killAtRandom(tb testing.TB, answered *atomic.Int64, total int64, kills int) int {
	every := max(total/int64(kills), 1)
	dead, guardians := map[int]bool{}, map[int]bool{}
	for mark := every; len(dead) < kills && answered.Load() < total; {
		if answered.Load() < mark {
			time.Sleep(time.Duration(rand.IntN(200)) * time.Microsecond)
			continue
		}
		var live []int
		for _, pid := range workerPids(guardians) {
			if !dead[pid] && alive(pid) {
				live = append(live, pid)
			}
		}
		if len(live) > 0 {
			pid := live[rand.IntN(len(live))]
			syscall.Kill(pid, syscall.SIGKILL)
			dead[pid] = true
		}
		mark += every
	}
	return len(dead)
}

// workerPids lists the children of this process but the guardian (the
// pids in guardians, which it adds to), from the kernel's list of each
// thread's children: a quicker look than childPids' walk through /proc,
// so that the kills keep up with the tasks.
func workerPids(guardians map[int]bool) []int {
	files, _ := filepath.Glob("/proc/self/task/*/children")
	var pids []int
	for _, f := range files {
		data, _ := os.ReadFile(f)
		for _, field := range strings.Fields(string(data)) {
			pid, err := strconv.Atoi(field)
			if err != nil || guardians[pid] {
				continue
			}
			if isGuardian(pid) {
				guardians[pid] = true
				continue
			}
			pids = append(pids, pid)
		}
	}
	return pids
}

func TestChaos(t *testing.T) {
	chaos(t, 5000, 50)
}

// BenchmarkChaos is the long form: go test -run '^$' -bench Chaos
// -benchtime 100000x ./pool runs 100,000 tasks and kills 1,000 workers.
func BenchmarkChaos(b *testing.B) {
	chaos(b, b.N, max(b.N/100, 1))
}
