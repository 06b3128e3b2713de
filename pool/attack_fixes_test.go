//go:build linux

package pool_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/childproc/childproc"
	"github.com/childproc/childproc/pool"
)

// Attack tests on the fixes of 9ee7fc2..31ff54a: StartTimeout from the
// call of Start, ErrCrashLoop's epochs, unsent tasks run elsewhere, the
// stop's goroutines, the caller's read ended by finish, sends bounded by
// the caller's ctx, and the Size × Concurrency cap.

// StartTimeout "bounds a worker's start, from the call of Worker.Start
// until the worker says it is ready". A Start that overruns the
// timeout (ignoring its ctx, as a slow setup step might) and then
// returns a worker that never says it is ready must still have that
// worker given up: New returns an error instead of waiting for ever.
func TestAttackFixSlowStartThenNeverReady(t *testing.T) {
	fds0 := fdCount()
	silent := pyScript[int, int](t, `time.sleep(1000)
`)
	var enough atomic.Bool
	slow := pool.Worker[int, int]{Start: func(ctx context.Context, o *childproc.Options) (*childproc.Child, error) {
		if enough.Load() {
			return nil, errors.New("test: enough")
		}
		time.Sleep(400 * time.Millisecond) // past StartTimeout, ignoring ctx
		return silent.Start(context.Background(), o)
	}}
	type result struct {
		p   *pool.Pool[int, int]
		err error
	}
	done := make(chan result, 1)
	t0 := time.Now()
	go func() {
		p, err := pool.New(slow, &pool.Options{Size: 1, StartTimeout: 200 * time.Millisecond, Child: quiet()})
		done <- result{p, err}
	}()
	select {
	case r := <-done:
		t.Logf("New returned after %v: %v", time.Since(t0), r.err)
		if r.err == nil {
			r.p.Close()
			t.Fatal("New succeeded with a worker that never said it was ready")
		}
	case <-time.After(6 * time.Second):
		t.Errorf("StartTimeout 200ms, Start took 400ms and its worker never said it was ready: New has not returned after 6s (the worker, started after the timeout fired, is never given up)")
		enough.Store(true) // the next starts fail: New ends once the stuck worker is killed
		for _, k := range childrenOf(os.Getpid()) {
			syscall_kill(k)
		}
		if r := <-done; r.p != nil {
			r.p.Close()
		}
	}
	checkClean(t, fds0)
}

func syscall_kill(pid int) {
	if p, err := os.FindProcess(pid); err == nil {
		p.Kill()
	}
}

// Starts that fail together count once towards ErrCrashLoop: with Size
// 8 and a worker that always exits at start, New must still see the
// crash loop and return its error in reasonable time.
func TestAttackFixCrashLoopSize8(t *testing.T) {
	fds0 := fdCount()
	var starts atomic.Int64
	w := pyScript[int, int](t, `sys.exit(3)
`)
	counted := pool.Worker[int, int]{Start: func(ctx context.Context, o *childproc.Options) (*childproc.Child, error) {
		starts.Add(1)
		return w.Start(ctx, o)
	}}
	t0 := time.Now()
	var p *pool.Pool[int, int]
	var err error
	within(t, 9*time.Second, "New with workers that always exit at start (Size 8)", func() {
		p, err = pool.New(counted, &pool.Options{Size: 8, Child: quiet()})
	})
	t.Logf("New returned after %v, %d starts: %v", time.Since(t0), starts.Load(), err)
	if err == nil {
		p.Close()
		t.Fatal("New succeeded with workers that exit at start")
	}
	checkClean(t, fds0)
}

// A failed start that is a Start which fails at once (a missing
// executable): the crash loop is seen with Size 8 too, and Do on a
// pool whose workers all start failing later gets ErrCrashLoop.
func TestAttackFixCrashLoopAfterReadySize8(t *testing.T) {
	fds0 := fdCount()
	var bad atomic.Bool
	w := pool.Worker[job, string]{Start: func(ctx context.Context, o *childproc.Options) (*childproc.Child, error) {
		if bad.Load() {
			return nil, errors.New("test: start fails")
		}
		return tester.Start(ctx, o)
	}}
	p, err := pool.New(w, &pool.Options{Size: 8, Child: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	bad.Store(true)
	// Every worker dies under a task at once; their replacements fail.
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() { defer wg.Done(); p.Do(context.Background(), job{Exit: 3}) }()
	}
	wg.Wait()
	t0 := time.Now()
	var derr error
	within(t, 9*time.Second, "Do on a pool whose starts all fail", func() {
		for time.Since(t0) < 8*time.Second {
			ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			_, derr = p.Do(ctx, job{Value: "x"})
			cancel()
			if errors.Is(derr, pool.ErrCrashLoop) {
				return
			}
		}
	})
	t.Logf("after %v: %v", time.Since(t0), derr)
	if !errors.Is(derr, pool.ErrCrashLoop) {
		t.Errorf("no ErrCrashLoop 8s after every start began to fail: %v", derr)
	}
	within(t, 10*time.Second, "Close", func() { p.Close() })
	checkClean(t, fds0)
}

// "A task whose message could not be sent to its worker (gone already)
// never ran there: it runs elsewhere whatever Retries says." A worker
// that reads nothing and exits 500ms after it is ready, with six big
// tasks sent to it: the first is being written, the second sits in the
// channel's buffer, and the third to sixth wait for room in the channel
// (or to be taken to be sent) when the worker dies. They never reached
// the worker, and must run on the replacement (Retries 0), whatever
// comes first: the pool seeing the worker gone or the send's error.
func TestAttackFixUnsentTaskRunsElsewhere(t *testing.T) {
	fds0 := fdCount()
	dir := t.TempDir()
	w := pyScript[string, int](t, `marker=`+"'"+dir+"/died'"+`
if not os.path.exists(marker):
    open(marker,'w').close()
    send({'pool':'ready','protocol':1})
    time.sleep(0.5)
    os._exit(1)
send({'pool':'ready','protocol':1})
while True:
    m=recv()
    send({'pool':'result','id':m['id'],'value':len(m['value'])})
`)
	const n = 6
	p, err := pool.New(w, &pool.Options{Size: 1, Concurrency: n, Child: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("x", 8<<20)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = p.Do(context.Background(), big)
		}()
		time.Sleep(50 * time.Millisecond) // in order
	}
	within(t, 9*time.Second, "every Do", wg.Wait)
	t.Logf("first: %v; second: %v", errs[0], errs[1])
	for i := 2; i < n; i++ {
		if errs[i] != nil {
			t.Errorf("task %d of %d, which was waiting for room in the channel when its worker died, failed (Retries 0): %v", i+1, n, errs[i])
		}
	}
	within(t, 10*time.Second, "Close", func() { p.Close() })
	checkClean(t, fds0)
}

// "When ctx ends first, Do returns ctx's error at once": cancel
// letters to a worker that reads nothing are meant to wait for room in
// a goroutine of their own (flushElsewhere). Five big tasks on such a
// worker, their ctx cancelled: every Do returns at once, and Close
// then returns, reaps the worker and leaves no goroutine (the stop's
// Stop and Disconnect goroutines included).
func TestAttackFixCancelLettersHoldCaller(t *testing.T) {
	fds0 := fdCount()
	leakCheck(t)
	p, err := pool.New(stubborn(t), &pool.Options{Size: 1, Concurrency: 5, CancelGrace: 5 * time.Second,
		Child: &childproc.Options{Stdio: []any{nil, nil, childproc.Ignore}, ForceKillAfter: 300 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() }) // before leakCheck's, on failure too
	big := strings.Repeat("x", 4<<20)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range 5 {
		wg.Add(1)
		go func() { defer wg.Done(); p.Do(ctx, big) }()
	}
	eventually(t, 5*time.Second, "five tasks running", func() bool { s := p.Stats(); return s.Busy == 1 && s.Queued == 0 })
	time.Sleep(200 * time.Millisecond)
	cancel() // the cancels wait for room that never comes
	returned := make(chan struct{})
	go func() { wg.Wait(); close(returned) }()
	select {
	case <-returned:
	case <-time.After(2 * time.Second):
		t.Errorf("5 Do calls on a worker that reads nothing, ctx cancelled: not all returned within 2s (CancelGrace 5s): a caller that holds the worker's sending (its own task letter) goes on to send the cancel letters posted meanwhile, with no bound on the wait for room")
	}
	within(t, 10*time.Second, "Close", func() { p.Close() })
	<-returned
	checkClean(t, fds0)
}

// IdleTimeout with MinSize 0 stops every worker; tasks then start them
// again, and the Size × Concurrency cap must let them run (the
// stopped workers' slots are free), with Shutdown returning after.
func TestAttackFixIdleToZeroThenBurst(t *testing.T) {
	fds0 := fdCount()
	p, err := pool.New(tester, &pool.Options{Size: 2, Concurrency: 2, IdleTimeout: 100 * time.Millisecond, Child: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "every worker stopped for IdleTimeout", func() bool { return p.Stats().Workers == 0 })
	var wg sync.WaitGroup
	var failed atomic.Int64
	for range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := p.Do(context.Background(), job{Sleep: 50 * time.Millisecond}); err != nil {
				failed.Add(1)
				t.Errorf("Do: %v", err)
			}
		}()
	}
	within(t, 8*time.Second, "12 tasks after the pool idled to 0 workers", wg.Wait)
	s := p.Stats()
	if s.Done != 12 || s.Failed != 0 || s.Queued != 0 {
		t.Errorf("Stats after 12 Do: %+v", s)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	within(t, 8*time.Second, "Shutdown", func() {
		if err := p.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	checkClean(t, fds0)
}

// Shutdown while recycled workers (MaxTasks 1) still run their tasks
// and more wait in the queue behind the Size × Concurrency cap: it
// drains every task and returns; each Do returns once, with its answer,
// and Stats counts each once.
func TestAttackFixShutdownWhileRetiring(t *testing.T) {
	fds0 := fdCount()
	p, err := pool.New(tester, &pool.Options{Size: 2, MaxTasks: 1, Child: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	const n = 8
	var wg sync.WaitGroup
	var rets atomic.Int64
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := p.Do(context.Background(), job{Sleep: 150 * time.Millisecond, Value: "v"})
			rets.Add(1)
			if err != nil {
				t.Errorf("Do: %v", err)
			}
		}()
	}
	eventually(t, 5*time.Second, "tasks queued behind the cap", func() bool { return p.Stats().Queued > 0 })
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
	defer cancel()
	within(t, 9*time.Second, "Shutdown", func() {
		if err := p.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown while recycled workers run: %v", err)
		}
	})
	within(t, 2*time.Second, "every Do", wg.Wait)
	s := p.Stats()
	if rets.Load() != n || s.Done != n || s.Failed != 0 {
		t.Errorf("%d Do returned; Stats Done %d Failed %d (want %d, 0)", rets.Load(), s.Done, s.Failed, n)
	}
	checkClean(t, fds0)
}
