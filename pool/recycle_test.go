//go:build linux

package pool_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/childproc/childproc"
	"github.com/childproc/childproc/pool"
)

// pids runs n tasks one after the other and returns the distinct worker
// pids in the order seen.
func pids(t *testing.T, p *pool.Pool[job, string], n int, j job) []string {
	t.Helper()
	var seen []string
	j.Pid = true
	for range n {
		pid, err := p.Do(context.Background(), j)
		if err != nil {
			t.Fatalf("task: %v", err)
		}
		if len(seen) == 0 || seen[len(seen)-1] != pid {
			seen = append(seen, pid)
		}
	}
	return seen
}

func TestMaxTasksRecycles(t *testing.T) {
	p := newPool(t, tester, &pool.Options{Size: 1, MaxTasks: 3, Child: quiet()})
	if got := pids(t, p, 9, job{}); len(got) != 3 {
		t.Fatalf("9 tasks at MaxTasks 3 ran on %d workers: %v", len(got), got)
	}
	s := p.Stats()
	if s.Recycled != 3 || s.Restarts != 0 || s.Failed != 0 {
		t.Fatalf("Stats %+v", s)
	}
}

// A recycled worker finishes its running tasks: recycling never fails a
// task, even with several in flight.
func TestRecyclingNeverFailsTasks(t *testing.T) {
	p := newPool(t, tester, &pool.Options{Size: 2, Concurrency: 3, MaxTasks: 5, Child: quiet()})
	var wg sync.WaitGroup
	for i := range 60 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := p.Do(context.Background(), job{Sleep: time.Duration(i%5) * 10 * time.Millisecond}); err != nil {
				t.Errorf("task %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	if s := p.Stats(); s.Recycled < 10 || s.Failed != 0 {
		t.Fatalf("Stats %+v", s)
	}
}

func TestMaxAgeRecycles(t *testing.T) {
	p := newPool(t, tester, &pool.Options{Size: 1, MaxAge: 200 * time.Millisecond, Child: quiet()})
	first := pids(t, p, 1, job{})
	time.Sleep(500 * time.Millisecond)
	if again := pids(t, p, 1, job{}); again[0] == first[0] {
		t.Fatalf("worker %s outlived MaxAge", first[0])
	}
	// A task that runs past MaxAge is not cut short.
	if _, err := p.Do(context.Background(), job{Sleep: 400 * time.Millisecond}); err != nil {
		t.Fatalf("long task: %v", err)
	}
}

func TestIdleTimeoutShrinksAndGrows(t *testing.T) {
	p := newPool(t, tester, &pool.Options{Size: 3, MinSize: 1, IdleTimeout: 200 * time.Millisecond, Child: quiet()})
	eventually(t, 5*time.Second, "shrunk to MinSize", func() bool { return p.Stats().Workers == 1 })
	time.Sleep(300 * time.Millisecond)
	if s := p.Stats(); s.Workers != 1 || s.Recycled != 2 {
		t.Fatalf("below MinSize or still shrinking: %+v", s)
	}
	var wg sync.WaitGroup
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := p.Do(context.Background(), job{Sleep: 300 * time.Millisecond}); err != nil {
				t.Error(err)
			}
		}()
	}
	eventually(t, 5*time.Second, "grown back to Size", func() bool { return p.Stats().Workers == 3 })
	wg.Wait()
}

// A worker over MaxMemory is replaced after its task; no task fails.
func TestMaxMemoryRecycles(t *testing.T) {
	p := newPool(t, tester, &pool.Options{Size: 1, MaxMemory: 64 << 20, Child: quiet()})
	var seen []string
	for range 12 {
		pid, err := p.Do(context.Background(), job{Leak: 16 << 20, Pid: true})
		if err != nil {
			t.Fatalf("leaking task failed: %v", err)
		}
		if len(seen) == 0 || seen[len(seen)-1] != pid {
			seen = append(seen, pid)
		}
	}
	if len(seen) < 2 {
		t.Fatalf("a worker leaking 192 MiB was never recycled at 64 MiB")
	}
	if s := p.Stats(); s.Recycled < 1 || s.Failed != 0 || s.Restarts != 0 {
		t.Fatalf("Stats %+v", s)
	}
}

// The janitor reads the memory of a worker busy with a long task and
// recycles it once the task is done, never killing it mid-task.
func TestMaxMemoryWhileRunning(t *testing.T) {
	p := newPool(t, tester, &pool.Options{Size: 1, MaxMemory: 64 << 20, Child: quiet()})
	first := pids(t, p, 1, job{})
	if _, err := p.Do(context.Background(), job{Leak: 100 << 20, Sleep: 1500 * time.Millisecond}); err != nil {
		t.Fatalf("the task over MaxMemory failed: %v", err)
	}
	if again := pids(t, p, 1, job{}); again[0] == first[0] {
		t.Fatal("worker over MaxMemory was kept")
	}
}

func TestLoggerTellsWhy(t *testing.T) {
	var buf bytes.Buffer
	var mu sync.Mutex
	log := slog.New(slog.NewTextHandler(lockedWriter{&mu, &buf}, nil))
	p := newPool(t, tester, &pool.Options{Size: 1, MaxTasks: 1, Logger: log, Child: quiet()})
	p.Do(context.Background(), job{})
	p.Do(context.Background(), job{Exit: 2})
	p.Close()
	mu.Lock()
	out := buf.String()
	mu.Unlock()
	for _, want := range []string{"worker ready", "recycling a worker", "reason=\"MaxTasks (1)\"", "worker died", "exit status 2"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

func TestStatsLatency(t *testing.T) {
	p := newPool(t, tester, &pool.Options{Size: 1, Child: quiet()})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() { defer wg.Done(); p.Do(context.Background(), job{Sleep: 100 * time.Millisecond}) }()
	}
	wg.Wait()
	s := p.Stats()
	if s.Run.Count != 4 || s.Run.P50 < 100*time.Millisecond || s.Run.Max < 100*time.Millisecond || s.Run.Max > 2*time.Second {
		t.Fatalf("Run %+v", s.Run)
	}
	// One task ran at once: the last waited for the three before it.
	if s.Wait.Count != 4 || s.Wait.Max < 250*time.Millisecond || s.Wait.P50 > s.Wait.P99 {
		t.Fatalf("Wait %+v", s.Wait)
	}
}

// A worker's own request to be recycled is honoured after its task.
func TestWorkerAsksToBeRecycled(t *testing.T) {
	p := newPool(t, tester, &pool.Options{Size: 1, Child: quiet()})
	first := pids(t, p, 1, job{})
	if _, err := p.Do(context.Background(), job{Recycle: "cache too big", Sleep: 50 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	if again := pids(t, p, 1, job{}); again[0] == first[0] {
		t.Fatal("the worker that asked to be recycled was kept")
	}
	if s := p.Stats(); s.Recycled != 1 || s.Restarts != 0 {
		t.Fatalf("Stats %+v", s)
	}
	if err := pool.Recycle(context.Background(), "x"); err == nil {
		t.Fatal("Recycle outside a task succeeded")
	}
}

// A worker's stderr is copied to Child.Stdio[2] and its tail kept.
func TestStderrCopiedAndKept(t *testing.T) {
	var buf bytes.Buffer
	var mu sync.Mutex
	p := newPool(t, tester, &pool.Options{Size: 1, Child: &childproc.Options{Stdio: []any{nil, nil, lockedWriter{&mu, &buf}}}})
	p.Do(context.Background(), job{Stderr: "first line\n"})
	_, err := p.Do(context.Background(), job{Stderr: "last words\n", Exit: 5})
	var we *pool.WorkerError
	if !errors.As(err, &we) || string(we.Stderr) != "first line\nlast words\n" {
		t.Fatalf("WorkerError %v, stderr %q", err, we.Stderr)
	}
	mu.Lock()
	defer mu.Unlock()
	if buf.String() != "first line\nlast words\n" {
		t.Fatalf("copied stderr %q", buf.String())
	}
}

// With room on every worker, tasks still go to the least loaded one.
func TestLeastLoaded(t *testing.T) {
	p := newPool(t, tester, &pool.Options{Size: 2, Concurrency: 4, Child: quiet()})
	var wg sync.WaitGroup
	got := make([]string, 4)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], _ = p.Do(context.Background(), job{Sleep: 300 * time.Millisecond, Pid: true})
		}()
	}
	wg.Wait()
	n := map[string]int{}
	for _, pid := range got {
		n[pid]++
	}
	if len(n) != 2 {
		t.Fatalf("4 tasks on 2 workers of 4 slots each landed %v", n)
	}
	for pid, k := range n {
		if k != 2 {
			t.Fatalf("worker %s got %d of 4 tasks: %v", pid, k, n)
		}
	}
}
