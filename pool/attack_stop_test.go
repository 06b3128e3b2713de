//go:build linux

package pool_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/childproc/childproc"
	"github.com/childproc/childproc/pool"
)

// Attack tests: recycling against Size × Concurrency, Stats against what Do
// returned, workers that stop reading, and hostile workers.

// peak runs f while sampling the pool's busy workers and this process's
// children every few milliseconds, and returns the largest of each.
func peak(p *pool.Pool[job, string], f func()) (busy, workers, kids int) {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			s := p.Stats()
			busy, workers = max(busy, s.Busy), max(workers, s.Workers)
			kids = max(kids, len(childrenOf(os.Getpid())))
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	f()
	close(stop)
	wg.Wait()
	return
}

// Recycling starts the replacement first and keeps the recycled worker
// until its running tasks are done; the replacement takes new tasks
// only as the old worker's tasks end, so that the pool never runs more than
// Size*Concurrency tasks at once (with MaxTasks 1 a queue of long tasks
// once ran all at once, a process each).
func TestAttackRecyclingKeepsSizeTimesConcurrency(t *testing.T) {
	for _, c := range []struct {
		name string
		o    pool.Options
	}{
		{"MaxTasks=1", pool.Options{Size: 2, MaxTasks: 1}},
		{"MaxAge=20ms", pool.Options{Size: 2, MaxAge: 20 * time.Millisecond}},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := c.o
			o.Child = quiet()
			p := newPool(t, tester, &o)
			const n, d = 8, 400 * time.Millisecond
			start := time.Now()
			busy, workers, kids := peak(p, func() {
				var wg sync.WaitGroup
				for range n {
					wg.Add(1)
					go func() {
						defer wg.Done()
						if _, err := p.Do(context.Background(), job{Sleep: d}); err != nil {
							t.Errorf("Do: %v", err)
						}
					}()
				}
				wg.Wait()
			})
			took := time.Since(start)
			limit := o.Size // Concurrency 1
			t.Logf("%d tasks of %v: %v; peak Busy %d, Workers %d, child processes %d", n, d, took, busy, workers, kids)
			if min := time.Duration(n/limit) * d; took < min*3/4 || busy > limit {
				t.Errorf("%s, Size %d, Concurrency 1: %d tasks of %v took %v (at most %d at once: >= %v); Stats().Busy peaked at %d, Workers at %d, %d child processes",
					c.name, o.Size, n, d, took, limit, min, busy, workers, kids)
			}
		})
	}
}

// Stats.Done counts the Do calls that returned a response and
// Stats.Failed those that returned any other error except their
// caller's own cancellation: each Do below returns such an error (a
// refusal, an undecodable response), and counts as Failed.
func TestAttackStatsCountWhatDoReturned(t *testing.T) {
	t.Run("ErrQueueFull", func(t *testing.T) {
		p := newPool(t, tester, &pool.Options{Size: 1, MaxQueue: 1, FailWhenFull: true, Child: quiet()})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var wg sync.WaitGroup
		for range 2 { // one runs, one is queued
			wg.Add(1)
			go func() { defer wg.Done(); p.Do(ctx, job{Sleep: 10 * time.Second}) }()
		}
		eventually(t, 5*time.Second, "one running, one queued", func() bool { s := p.Stats(); return s.Busy == 1 && s.Queued == 1 })
		before := p.Stats()
		_, err := p.Do(context.Background(), job{})
		after := p.Stats()
		cancel()
		wg.Wait()
		if !errors.Is(err, pool.ErrQueueFull) {
			t.Fatalf("Do: %v, want ErrQueueFull", err)
		}
		if after.Failed != before.Failed+1 {
			t.Errorf("Do returned ErrQueueFull, Stats.Failed went from %d to %d", before.Failed, after.Failed)
		}
	})
	t.Run("undecodable response", func(t *testing.T) {
		asInt := pool.Worker[job, int](tester) // the handler answers a string
		p, err := pool.New(asInt, &pool.Options{Size: 1, Child: quiet()})
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		_, err = p.Do(context.Background(), job{Value: "not a number"})
		s := p.Stats()
		if err == nil {
			t.Fatal("a string decoded into an int")
		}
		if s.Done != 0 || s.Failed != 1 {
			t.Errorf("Do returned %q, Stats has Done %d, Failed %d (want 0, 1)", err, s.Done, s.Failed)
		}
	})
	t.Run("ErrClosed", func(t *testing.T) {
		// A Do waiting for room when Shutdown comes fails with ErrClosed
		// and counts as Failed; a Do just after it fails the same way
		// and should count the same.
		p := newPool(t, tester, &pool.Options{Size: 1, MaxQueue: 1, Child: quiet()})
		var wg sync.WaitGroup
		errs := make([]error, 3)
		for i := range 3 { // one runs, one is queued, one waits for room
			wg.Add(1)
			go func() { defer wg.Done(); _, errs[i] = p.Do(context.Background(), job{Sleep: 300 * time.Millisecond}) }()
			time.Sleep(50 * time.Millisecond)
		}
		eventually(t, 5*time.Second, "one running, one queued", func() bool { s := p.Stats(); return s.Busy == 1 && s.Queued == 1 })
		time.Sleep(50 * time.Millisecond)
		shut := make(chan error, 1)
		go func() { shut <- p.Shutdown(context.Background()) }()
		time.Sleep(100 * time.Millisecond) // Shutdown has begun
		if _, err := p.Do(context.Background(), job{}); !errors.Is(err, pool.ErrClosed) {
			t.Fatalf("Do during Shutdown: %v, want ErrClosed", err)
		}
		refusedAfter := 1
		wg.Wait()
		<-shut
		closed := 0
		for _, e := range errs {
			if errors.Is(e, pool.ErrClosed) {
				closed++
			}
		}
		s := p.Stats()
		t.Logf("errs %v, Stats %+v", errs, s)
		if want := int64(closed + refusedAfter); s.Failed != want {
			t.Errorf("%d Do returned ErrClosed (%d while waiting for room, %d refused after Shutdown began): Stats.Failed %d", want, closed, refusedAfter, s.Failed)
		}
	})
}

// Stats.Queued counts tasks not yet sent to a worker, those of Do calls
// waiting for room in a full queue included.
func TestAttackStatsQueuedCountsTasksWaitingForRoom(t *testing.T) {
	p := newPool(t, tester, &pool.Options{Size: 1, MaxQueue: 1, Child: quiet()})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	for range 6 { // one runs, one is queued, four wait for room
		wg.Add(1)
		go func() { defer wg.Done(); p.Do(ctx, job{Sleep: 10 * time.Second}) }()
	}
	time.Sleep(300 * time.Millisecond)
	if s := p.Stats(); s.Busy+s.Queued != 6 {
		t.Errorf("6 Do in flight on 1 worker of Concurrency 1: Stats Busy %d, Queued %d: %d tasks not yet sent to a worker are counted nowhere", s.Busy, s.Queued, 6-s.Busy-s.Queued)
	}
}

// MaxAge shorter than a worker's start: New waits for every worker to
// be ready at the same moment, while the janitor recycles each one as
// soon as it is. New must still return, and Do must work.
func TestAttackTinyMaxAge(t *testing.T) {
	fds0 := fdCount()
	within(t, 30*time.Second, "New and Do with MaxAge 1ms", func() {
		p, err := pool.New(tester, &pool.Options{Size: 4, MaxAge: time.Millisecond, Child: quiet()})
		if err != nil {
			t.Errorf("New: %v", err)
			return
		}
		defer p.Close()
		for i := range 20 {
			if v, err := p.Do(context.Background(), job{Value: fmt.Sprint(i)}); err != nil || v != fmt.Sprint(i) {
				t.Errorf("Do %d: %q, %v", i, v, err)
			}
		}
		t.Logf("Stats %+v", p.Stats())
	})
	checkClean(t, fds0)
}

// Map's input iterator panics after a few requests: the panic reaches
// the caller of Map, the tasks it had submitted are abandoned (their
// handlers' contexts end), and nothing leaks.
func TestAttackMapInputPanics(t *testing.T) {
	leakCheck(t)
	fds0 := fdCount()
	p, err := pool.New(tester, &pool.Options{Size: 2, CancelGrace: 2 * time.Second, Child: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	var got any
	within(t, 10*time.Second, "Map with a panicking input", func() {
		defer func() { got = recover() }()
		reqs := func(yield func(job) bool) {
			for range 3 {
				if !yield(job{Sleep: 5 * time.Second}) {
					return
				}
			}
			panic("input broke")
		}
		for range p.Map(context.Background(), reqs) {
			t.Error("Map yielded before the input panicked")
		}
	})
	if got != "input broke" {
		t.Errorf("recovered %v, want the input's panic", got)
	}
	// The three sleepers were abandoned: their handlers see the cancel
	// and answer at once, so that the workers are free again.
	eventually(t, 3*time.Second, "the abandoned tasks cancelled", func() bool { return p.Stats().Busy == 0 })
	within(t, 5*time.Second, "Do after", func() {
		if v, err := p.Do(context.Background(), job{Value: "ok"}); err != nil || v != "ok" {
			t.Errorf("Do after the panic: %q, %v", v, err)
		}
	})
	within(t, 10*time.Second, "Close", func() { p.Close() })
	checkClean(t, fds0)
}

// Map on an idle pool whose queue is smaller than what its workers run
// at once, with FailWhenFull: Map keeps no more in flight than the
// workers run and the queue holds, so that none of its own requests
// fails with ErrQueueFull while nobody else uses the pool.
func TestAttackMapOverflowsItsOwnQueue(t *testing.T) {
	p := newPool(t, tester, &pool.Options{Size: 2, Concurrency: 2, MaxQueue: 1, FailWhenFull: true, Child: quiet()})
	reqs := func(yield func(job) bool) {
		for range 10 {
			if !yield(job{Sleep: 50 * time.Millisecond, Value: "v"}) {
				return
			}
		}
	}
	var full, ok int
	within(t, 10*time.Second, "Map", func() {
		for v, err := range p.Map(context.Background(), reqs) {
			switch {
			case errors.Is(err, pool.ErrQueueFull):
				full++
			case err == nil && v == "v":
				ok++
			default:
				t.Errorf("Map: %q, %v", v, err)
			}
		}
	})
	if full > 0 {
		t.Errorf("Map of 10 requests alone on an idle pool (Size 2, Concurrency 2, MaxQueue 1, FailWhenFull): %d failed with ErrQueueFull, %d ran", full, ok)
	}
}

// A Python worker that sends its recycle request over and over while
// several tasks run, and a second ready message after the first task:
// the requests are one recycle, no running task fails for it, and the
// second ready breaks the protocol only for that worker.
func TestAttackRecycleFloodWhileBusy(t *testing.T) {
	fds0 := fdCount()
	w := pyWorker(t, `send({'pool':'ready','protocol':1})
import threading
lock=threading.Lock()
def answer(m):
    time.sleep(0.2)
    with lock: send({'pool':'result','id':m['id'],'value':m['value']})
while True:
    m=recv()
    with lock:
        for i in range(200): send({'pool':'recycle','reason':'flood %d'%i})
    threading.Thread(target=answer,args=(m,),daemon=True).start()
`)
	p, err := pool.New(w, &pool.Options{Size: 2, Concurrency: 4, Child: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var failed atomic.Int64
	within(t, 30*time.Second, "tasks on recycling workers", func() {
		for i := range 40 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if v, err := p.Do(context.Background(), i); err != nil || v != i {
					failed.Add(1)
					t.Errorf("Do(%d) = %d, %v", i, v, err)
				}
			}()
		}
		wg.Wait()
	})
	s := p.Stats()
	t.Logf("Stats %+v", s)
	if s.Restarts != 0 || s.Failed != 0 {
		t.Errorf("recycle requests made %d restarts and %d failures: %+v", s.Restarts, s.Failed, s)
	}
	within(t, 20*time.Second, "Close", func() { p.Close() })
	checkClean(t, fds0)
}

// Every Do returns exactly once, with an error it may return, while
// crashes, TaskTimeout, Retries, caller cancellations and finally Close
// all hit the same pool at once; the counts stay consistent meanwhile,
// and Close leaves nothing behind.
func TestAttackStormThenClose(t *testing.T) {
	leakCheck(t)
	fds0 := fdCount()
	p, err := pool.New(tester, &pool.Options{Size: 3, Concurrency: 2, MaxQueue: 16, Retries: 1,
		TaskTimeout: 150 * time.Millisecond, CancelGrace: 100 * time.Millisecond,
		Child: &childproc.Options{Stdio: []any{nil, nil, childproc.Ignore}, ForceKillAfter: 200 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	var calls, rets atomic.Int64
	var bad atomic.Int64
	stop := make(chan struct{})
	var statWG sync.WaitGroup
	statWG.Add(1)
	go func() {
		defer statWG.Done()
		for {
			s := p.Stats()
			if s.Busy < 0 || s.Idle < 0 || s.Queued < 0 || s.Busy+s.Idle != s.Workers || s.Done < 0 || s.Failed < 0 {
				bad.Add(1)
				t.Errorf("inconsistent Stats %+v", s)
				return
			}
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	var wg sync.WaitGroup
	for g := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				var j job
				switch (g + i) % 6 {
				case 0:
					j = job{Exit: -1}
				case 1:
					j = job{Sleep: 400 * time.Millisecond} // past TaskTimeout
				case 2:
					j = job{Fail: "own"}
				default:
					j = job{Sleep: time.Duration(i%7) * time.Millisecond, Value: "v"}
				}
				ctx, cancel := context.WithTimeout(context.Background(), time.Duration((g*7+i*13)%120)*time.Millisecond)
				calls.Add(1)
				v, err := p.Do(ctx, j)
				rets.Add(1)
				cancel()
				var te *pool.TaskError
				var we *pool.WorkerError
				switch {
				case err == nil:
					if v != "v" && j.Value == "v" {
						t.Errorf("Do(%+v) = %q", j, v)
					}
				case errors.Is(err, pool.ErrClosed):
					return
				case errors.Is(err, context.DeadlineExceeded), errors.Is(err, pool.ErrTimeout),
					errors.As(err, &te), errors.As(err, &we), errors.Is(err, pool.ErrCrashLoop):
				default:
					t.Errorf("Do(%+v): unexpected %v", j, err)
				}
			}
		}()
	}
	time.Sleep(2 * time.Second)
	within(t, 20*time.Second, "Close in the storm", func() { p.Close() })
	within(t, 10*time.Second, "every Do returned", wg.Wait)
	close(stop)
	statWG.Wait()
	if calls.Load() != rets.Load() {
		t.Errorf("%d Do called, %d returned", calls.Load(), rets.Load())
	}
	t.Logf("%d Do; Stats %+v", calls.Load(), p.Stats())
	checkClean(t, fds0)
}

// pyScript writes a Python worker (pyHead and body) and returns it as a
// Worker of Req and Resp.
func pyScript[Req, Resp any](t *testing.T, body string) pool.Worker[Req, Resp] {
	t.Helper()
	path := t.TempDir() + "/w.py"
	if err := os.WriteFile(path, []byte(pyHead+body), 0o644); err != nil {
		t.Fatal(err)
	}
	return pool.Script[Req, Resp](path)
}

// "When ctx ends first, Do returns ctx's error at once." A worker that
// has stopped reading its channel (a handler blocking a Node worker's
// event loop, say) while it runs one big task: a second big task waits
// for room in the channel, and when the second Do's ctx ends, Do
// returns, neither its task's send nor its cancel's holding it until
// CancelGrace stops the worker.
func TestAttackDoReturnsAtCtxEndWhileSendBlocks(t *testing.T) {
	fds0 := fdCount()
	w := pyScript[string, int](t, `send({'pool':'ready','protocol':1})
time.sleep(1000)
`)
	p, err := pool.New(w, &pool.Options{Size: 1, Concurrency: 2, CancelGrace: 3 * time.Second, Child: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("x", 4<<20) // 4 MiB, no escapes to make it longer
	first := make(chan error, 1)
	go func() { _, err := p.Do(context.Background(), big); first <- err }()
	eventually(t, 5*time.Second, "the first task running", func() bool { return p.Stats().Busy == 1 })
	time.Sleep(100 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = p.Do(ctx, big)
	took := time.Since(start)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("second Do: %v, want its ctx's error", err)
	}
	if took > time.Second {
		t.Errorf("Do with a 200ms ctx returned after %v (CancelGrace is 3s)", took)
	}
	within(t, 20*time.Second, "Close", func() { p.Close() })
	<-first
	checkClean(t, fds0)
}

// stubborn is a Python worker that says it is ready, then ignores
// SIGTERM and never reads its channel again.
func stubborn(t *testing.T) pool.Worker[string, int] {
	return pyScript[string, int](t, `send({'pool':'ready','protocol':1})
signal.signal(signal.SIGTERM, signal.SIG_IGN)
time.sleep(1000)
`)
}

// A task that runs past TaskTimeout fails with ErrTimeout: a big task
// given to a worker that has stopped reading (and ignores SIGTERM)
// returns ErrTimeout soon after the 300ms, not once the channel is torn
// down seconds later (its caller, reading the worker's channel for its
// answer, stops reading when the task times out).
func TestAttackTimeoutReturnsWhileSendBlocks(t *testing.T) {
	fds0 := fdCount()
	w := stubborn(t)
	p, err := pool.New(w, &pool.Options{Size: 1, TaskTimeout: 300 * time.Millisecond,
		Child: &childproc.Options{Stdio: []any{nil, nil, childproc.Ignore}, ForceKillAfter: time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("x", 4<<20) // 4 MiB, no escapes to make it longer
	start := time.Now()
	_, err = p.Do(context.Background(), big)
	took := time.Since(start)
	if !errors.Is(err, pool.ErrTimeout) {
		t.Errorf("big task: %v, want ErrTimeout", err)
	}
	if took > 1500*time.Millisecond {
		t.Errorf("Do returned ErrTimeout %v after it began (TaskTimeout 300ms)", took)
	}
	within(t, 20*time.Second, "Close", func() { p.Close() })
	checkClean(t, fds0)
}

// The CancelGrace stop of a worker that does not read and ignores
// SIGTERM closes its channel, which waits (up to 5 s) for the frames
// queued to that peer: not with the pool's lock held, so that the rest
// of the pool, Stats included, goes on meanwhile.
func TestAttackCancelGraceStopFreezesThePool(t *testing.T) {
	fds0 := fdCount()
	w := stubborn(t)
	p, err := pool.New(w, &pool.Options{Size: 1, Concurrency: 2, CancelGrace: 200 * time.Millisecond,
		Child: &childproc.Options{Stdio: []any{nil, nil, childproc.Ignore}, ForceKillAfter: 300 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("x", 4<<20) // 4 MiB, no escapes to make it longer
	done := make(chan struct{}, 2)
	t0 := time.Now()
	for range 2 { // the second is queued for the channel's writer
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			p.Do(ctx, big)
			done <- struct{}{}
		}()
		time.Sleep(20 * time.Millisecond)
	}
	var slowest, at time.Duration // of Stats, called every 10ms meanwhile
	for time.Since(t0) < 4*time.Second {
		start := time.Now()
		p.Stats()
		if d := time.Since(start); d > slowest {
			slowest, at = d, start.Sub(t0)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if slowest > 200*time.Millisecond {
		t.Errorf("Stats called %v after the tasks began took %v while a worker was being stopped", at, slowest)
	}
	within(t, 20*time.Second, "Close", func() { p.Close() })
	<-done
	<-done
	checkClean(t, fds0)
}

// Big messages both ways: a worker that reads a task, writes its big
// answer, and only then reads the next task, with several tasks in
// flight. The pool's reader must not block sending the next big task
// (dispatched when an answer frees a slot) while the worker blocks
// writing its next answer, which only the pool's reader would read.
func TestAttackBigBothWaysNoDeadlock(t *testing.T) {
	fds0 := fdCount()
	w := pyScript[string, int](t, `send({'pool':'ready','protocol':1})
pad=' '*(1<<20)
while True:
    m=recv()
    os.write(fd,('{"pool":"result","id":%d,"value":%d%s}\n'%(m['id'],len(m['value']),pad)).encode())
`)
	p, err := pool.New(w, &pool.Options{Size: 1, Concurrency: 4, Child: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	big := string(make([]byte, 1<<20))
	within(t, 20*time.Second, "12 big tasks both ways", func() {
		var wg sync.WaitGroup
		for range 12 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if n, err := p.Do(context.Background(), big); err != nil || n != len(big) {
					t.Errorf("Do: %d, %v", n, err)
				}
			}()
		}
		wg.Wait()
	})
	within(t, 20*time.Second, "Close", func() { p.Close() })
	checkClean(t, fds0)
}

// A Do whose ctx has ended before it is called returns ctx's error
// without starting anything, as the rest of childproc does for a ctx
// already done: its handler never runs.
func TestAttackDoWithEndedCtxStartsNothing(t *testing.T) {
	var stderr lockedBuf
	p := newPool(t, tester, &pool.Options{Size: 1, Child: &childproc.Options{Stdio: []any{nil, nil, &stderr}}})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := p.Do(ctx, job{Stderr: "handler ran\n"})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Do with an ended ctx: %v, want context.Canceled", err)
	}
	// A task after it, on the same worker, shows what reached the worker.
	if _, err := p.Do(context.Background(), job{Stderr: "next\n"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "the next task's stderr", func() bool { return strings.Contains(stderr.String(), "next\n") })
	if got := stderr.String(); got != "next\n" {
		t.Errorf("the handler ran for a Do whose ctx had ended before it was called: worker stderr %q", got)
	}
}

type lockedBuf struct {
	mu sync.Mutex
	b  []byte
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b = append(l.b, p...)
	return len(p), nil
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.b)
}

// A worker that asks to be recycled as soon as it is ready, before any
// task, is a failed start: the next start comes after the back-off, not
// in a hot loop, and New returns (once, it waited for Size workers
// ready at the same moment for ever). Starts are capped here (the 41st
// fails), so that the test ends even if that breaks.
func TestAttackRecycleAtStartNoHotLoop(t *testing.T) {
	fds0 := fdCount()
	w := pyWorker(t, `send({'pool':'ready','protocol':1})
send({'pool':'recycle','reason':'always'})
while True:
    m=recv()
    send({'pool':'result','id':m['id'],'value':m['value']})
`)
	var starts atomic.Int64
	capped := pool.Worker[int, int]{Start: func(ctx context.Context, o *childproc.Options) (*childproc.Child, error) {
		if starts.Add(1) > 40 {
			return nil, errors.New("test: enough starts")
		}
		return w.Start(ctx, o)
	}}
	t0 := time.Now()
	type result struct {
		p    *pool.Pool[int, int]
		err  error
		took time.Duration
	}
	newDone := make(chan result, 1)
	go func() {
		p, err := pool.New(capped, &pool.Options{Size: 2, Child: quiet()})
		newDone <- result{p, err, time.Since(t0)}
	}()
	time.Sleep(2 * time.Second)
	n := starts.Load()
	var r result
	select {
	case r = <-newDone:
	default:
		t.Errorf("New has not returned after 2s (%d workers started)", n)
		r = <-newDone // the cap ends it
	}
	t.Logf("New returned after %v, %d starts: %v", r.took, starts.Load(), r.err)
	if r.err != nil && starts.Load() > 40 {
		t.Errorf("New returned only when the test's cap of 40 starts made starts fail: %v", r.err)
	}
	if r.p != nil {
		within(t, 20*time.Second, "Close", func() { r.p.Close() })
	}
	if n > 20 {
		t.Errorf("a worker that asks to go at once: %d workers started in 2s for a pool of 2, with no back-off", n)
	}
	checkClean(t, fds0)
}

// A hostile worker answers with a value nested a million levels deep
// (2 MB, under MaxMessageSize): the parent must neither crash nor
// hang on it; Do fails for that task (the response cannot be decoded)
// or the worker is replaced, and the pool goes on.
func TestAttackDeeplyNestedAnswer(t *testing.T) {
	fds0 := fdCount()
	w := pyScript[int, any](t, `send({'pool':'ready','protocol':1})
deep=b'['*1000000+b']'*1000000
while True:
    m=recv()
    if m['value']==0:
        os.write(fd,b'{"pool":"result","id":'+str(m['id']).encode()+b',"value":'+deep+b'}\n')
        os.write(fd,b'{"pool":"result","id":'+str(m['id']+1000).encode()+b',"value":0,"x":'+deep+b'}\n')
    else:
        send({'pool':'result','id':m['id'],'value':m['value']})
`)
	p, err := pool.New(w, &pool.Options{Size: 1, Child: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	within(t, 20*time.Second, "deep answer", func() {
		_, err := p.Do(context.Background(), 0)
		t.Logf("deep answer: %.200v", err)
		if err == nil {
			t.Logf("a million levels deep decoded into any")
		}
		v, err := p.Do(context.Background(), 5)
		if err != nil || v != float64(5) {
			t.Errorf("Do after the deep answer: %v, %v", v, err)
		}
	})
	within(t, 20*time.Second, "Close", func() { p.Close() })
	checkClean(t, fds0)
}
