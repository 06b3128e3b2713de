//go:build linux

package pool_test

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/childproc/childproc"
	"github.com/childproc/childproc/pool"
)

// A worker that dies fails only its own task, with its exit and stderr,
// and is replaced.
func TestCrashFailsOnlyItsTask(t *testing.T) {
	leakCheck(t)
	p := newPool(t, tester, &pool.Options{Size: 2, Child: quiet()})
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = p.Do(ctx, job{Sleep: 100 * time.Millisecond, Value: "ok"})
		}()
	}
	_, err := p.Do(ctx, job{Stderr: "about to die\n", Exit: 3})
	wg.Wait()
	var we *pool.WorkerError
	if !errors.As(err, &we) {
		t.Fatalf("crash: %v, want a *WorkerError", err)
	}
	var ce *childproc.Error
	if !errors.As(err, &ce) || ce.ExitCode != 3 {
		t.Fatalf("crash: %v: want its *childproc.Error with exit code 3", err)
	}
	if we.Pid <= 0 || !strings.Contains(string(we.Stderr), "about to die") {
		t.Fatalf("WorkerError pid %d stderr %q", we.Pid, we.Stderr)
	}
	for i, err := range errs {
		if err != nil {
			t.Errorf("task %d beside the crash: %v", i, err)
		}
	}
	eventually(t, 5*time.Second, "pool back at 2 workers", func() bool { return p.Stats().Workers == 2 })
	if s := p.Stats(); s.Restarts != 1 || s.Failed != 1 || s.Done != 6 {
		t.Fatalf("Stats %+v", s)
	}
	if alive(we.Pid) {
		t.Fatalf("dead worker %d still alive", we.Pid)
	}
}

func TestKilledWorkerReportsSignal(t *testing.T) {
	p := newPool(t, tester, &pool.Options{Size: 1, Child: quiet()})
	_, err := p.Do(context.Background(), job{Exit: -1})
	var ce *childproc.Error
	if !errors.As(err, &ce) || ce.Signal != "SIGKILL" {
		t.Fatalf("SIGKILLed worker: %v", err)
	}
	if got, err := p.Do(context.Background(), job{Value: "next"}); err != nil || got != "next" {
		t.Fatalf("after the crash: %q, %v", got, err)
	}
}

// Retries runs a task whose worker died on another worker.
func TestRetriesRunElsewhere(t *testing.T) {
	p := newPool(t, tester, &pool.Options{Size: 2, Retries: 1, Child: quiet()})
	once := filepath.Join(t.TempDir(), "once")
	got, err := p.Do(context.Background(), job{Once: once, Value: "second time"})
	if err != nil || got != "second time" {
		t.Fatalf("retried task: %q, %v", got, err)
	}
	// Without retries left, the error comes back.
	p0 := newPool(t, tester, &pool.Options{Size: 1, Child: quiet()})
	_, err = p0.Do(context.Background(), job{Once: filepath.Join(t.TempDir(), "once")})
	var we *pool.WorkerError
	if !errors.As(err, &we) {
		t.Fatalf("no retries: %v", err)
	}
}

// TaskTimeout fails the task, stops its worker (SIGKILL after
// ForceKillAfter for one that ignores SIGTERM) and replaces it.
func TestTimeoutKillsWorker(t *testing.T) {
	leakCheck(t)
	for _, noTerm := range []bool{false, true} {
		t.Run("noTerm="+strconv.FormatBool(noTerm), func(t *testing.T) {
			o := quiet()
			o.ForceKillAfter = 300 * time.Millisecond
			p := newPool(t, tester, &pool.Options{Size: 1, TaskTimeout: 300 * time.Millisecond, Child: o})
			ctx := context.Background()
			pid, _ := p.Do(ctx, job{Pid: true})
			start := time.Now()
			_, err := p.Do(ctx, job{Hang: true, NoTerm: noTerm})
			if !errors.Is(err, pool.ErrTimeout) {
				t.Fatalf("hung task: %v, want ErrTimeout", err)
			}
			if d := time.Since(start); d < 300*time.Millisecond || d > 3*time.Second {
				t.Fatalf("timed out after %v", d)
			}
			n, _ := strconv.Atoi(pid)
			eventually(t, 5*time.Second, "hung worker gone", func() bool { return !alive(n) })
			pid2, err := p.Do(ctx, job{Pid: true})
			if err != nil || pid2 == pid {
				t.Fatalf("after the timeout: pid %s (was %s), %v", pid2, pid, err)
			}
			if s := p.Stats(); s.Restarts != 1 || s.Failed != 1 {
				t.Fatalf("Stats %+v", s)
			}
		})
	}
}

// The timeout runs from the moment a task reaches a worker, not while it
// is queued.
func TestTimeoutStartsOnTheWorker(t *testing.T) {
	p := newPool(t, tester, &pool.Options{Size: 1, TaskTimeout: time.Second, Child: quiet()})
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := p.Do(context.Background(), job{Sleep: 400 * time.Millisecond}); err != nil {
				t.Errorf("task %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
}

// A queued task whose caller gives up leaves the queue at once.
func TestCancelQueued(t *testing.T) {
	p := newPool(t, tester, &pool.Options{Size: 1, Child: quiet()})
	go p.Do(context.Background(), job{Sleep: time.Second})
	eventually(t, 2*time.Second, "busy", func() bool { return p.Stats().Busy == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := p.Do(ctx, job{})
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 600*time.Millisecond {
		t.Fatalf("queued Do: %v after %v", err, time.Since(start))
	}
	if s := p.Stats(); s.Queued != 0 || s.Failed != 0 {
		t.Fatalf("Stats %+v", s)
	}
}

// A running task's cancel reaches the handler's ctx; the worker answers
// and lives on.
func TestCancelRunningReachesHandler(t *testing.T) {
	p := newPool(t, tester, &pool.Options{Size: 1, Child: quiet()})
	pid, _ := p.Do(context.Background(), job{Pid: true})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, err := p.Do(ctx, job{Sleep: 20 * time.Second})
	if !errors.Is(err, context.Canceled) || time.Since(start) > 2*time.Second {
		t.Fatalf("cancelled Do: %v after %v", err, time.Since(start))
	}
	eventually(t, 3*time.Second, "the handler answered", func() bool { return p.Stats().Busy == 0 })
	if pid2, err := p.Do(context.Background(), job{Pid: true}); err != nil || pid2 != pid {
		t.Fatalf("after cancel: pid %s (was %s), %v", pid2, pid, err)
	}
	if s := p.Stats(); s.Restarts != 0 || s.Failed != 0 {
		t.Fatalf("Stats %+v", s)
	}
}

// A worker that does not answer a cancel within CancelGrace is stopped
// and replaced.
func TestMissedCancelStopsWorker(t *testing.T) {
	p := newPool(t, tester, &pool.Options{Size: 1, CancelGrace: 200 * time.Millisecond, Child: quiet()})
	pid, _ := p.Do(context.Background(), job{Pid: true})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := p.Do(ctx, job{Hang: true}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Do: %v", err)
	}
	n, _ := strconv.Atoi(pid)
	eventually(t, 5*time.Second, "worker stopped", func() bool { return !alive(n) })
	eventually(t, 5*time.Second, "worker replaced", func() bool { return p.Stats().Workers == 1 })
	if s := p.Stats(); s.Restarts != 1 || s.Failed != 0 {
		t.Fatalf("Stats %+v", s)
	}
}

func TestQueueFull(t *testing.T) {
	p := newPool(t, tester, &pool.Options{Size: 1, MaxQueue: 2, FailWhenFull: true, Child: quiet()})
	var wg sync.WaitGroup
	for range 3 { // one runs, two queue
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.Do(context.Background(), job{Sleep: 500 * time.Millisecond})
		}()
	}
	eventually(t, 2*time.Second, "queue full", func() bool { return p.Stats().Queued == 2 })
	if _, err := p.Do(context.Background(), job{}); !errors.Is(err, pool.ErrQueueFull) {
		t.Fatalf("Do on a full queue: %v, want ErrQueueFull", err)
	}
	wg.Wait()
}

// Without FailWhenFull, Do waits for room, in order, bounded by ctx.
func TestQueueBlocks(t *testing.T) {
	p := newPool(t, tester, &pool.Options{Size: 1, MaxQueue: 1, Child: quiet()})
	ctx := context.Background()
	go p.Do(ctx, job{Sleep: 300 * time.Millisecond})
	eventually(t, 2*time.Second, "busy", func() bool { return p.Stats().Busy == 1 })
	go p.Do(ctx, job{Sleep: 300 * time.Millisecond})
	eventually(t, 2*time.Second, "queued", func() bool { return p.Stats().Queued == 1 })
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := p.Do(short, job{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Do waiting for room: %v", err)
	}
	start := time.Now()
	if got, err := p.Do(ctx, job{Value: "late"}); err != nil || got != "late" {
		t.Fatalf("Do after waiting: %q, %v", got, err)
	}
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Fatalf("Do did not wait for room: %v", d)
	}
}

func TestBadRequestAndResponse(t *testing.T) {
	p := newPool(t, pool.Worker[any, string](tester), &pool.Options{Size: 1, Child: quiet()})
	if _, err := p.Do(context.Background(), make(chan int)); err == nil || !strings.Contains(err.Error(), "encoding the request") {
		t.Fatalf("unencodable request: %v", err)
	}
	if s := p.Stats(); s.Failed != 1 || s.Done != 0 || s.Wait.Count != 0 {
		t.Fatalf("something was sent, or the failure not counted: %+v", s)
	}
	// A response that does not decode into Resp.
	q := newPool(t, pool.Worker[job, int](tester), &pool.Options{Size: 1, Child: quiet()})
	if _, err := q.Do(context.Background(), job{Value: "text"}); err == nil || !strings.Contains(err.Error(), "decoding the response") {
		t.Fatalf("undecodable response: %v", err)
	}
	// A request the handler cannot decode is that task's error.
	if _, err := p.Do(context.Background(), []int{1}); err == nil {
		t.Fatal("an array decoded into a struct")
	} else if te := new(pool.TaskError); !errors.As(err, &te) {
		t.Fatalf("undecodable request: %v", err)
	}
	if got, err := p.Do(context.Background(), job{Value: "fine"}); err != nil || got != "fine" {
		t.Fatalf("after bad input: %q, %v", got, err)
	}
}
