//go:build linux

package pool_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/childproc/childproc"
	"github.com/childproc/childproc/ipc"
	"github.com/childproc/childproc/pool"
)

// broken is a Go worker that fails at start, before it is ready.
var broken = childproc.RegisterEntry("test/broken", func(ctx context.Context, ch *ipc.Channel, args []string) error {
	os.Stderr.WriteString("cannot start: no config\n")
	os.Exit(4)
	return nil
})

func brokenWorker() pool.Worker[job, string] {
	return pool.Worker[job, string]{Start: func(ctx context.Context, o *childproc.Options) (*childproc.Child, error) {
		return childproc.ForkEntry(ctx, broken, nil, o)
	}}
}

func TestNewFailsWhenNoWorkerStarts(t *testing.T) {
	leakCheck(t)
	warm, err := pool.New(adder, &pool.Options{Size: 1}) // the guardian's lasting fds
	if err != nil {
		t.Fatal(err)
	}
	warm.Close()
	before := openFDs(t)
	start := time.Now()
	_, err = pool.New(brokenWorker(), &pool.Options{Size: 2, Child: quiet()})
	var we *pool.WorkerError
	var ce *childproc.Error
	if !errors.As(err, &we) || !errors.As(err, &ce) || ce.ExitCode != 4 || string(we.Stderr) != "cannot start: no config\n" {
		t.Fatalf("New with a worker that exits at start: %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("New took %v", d)
	}
	_, err = pool.New(pool.Script[int, int]("/nonexistent/worker.js"), &pool.Options{Size: 1, Child: quiet()})
	if err == nil {
		t.Fatal("New with a missing script succeeded")
	}
	_, err = pool.New(pool.Script[int, int]("/nonexistent/worker"), &pool.Options{Size: 1, Child: quiet()})
	if !errors.As(err, &ce) || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("New with a missing program: %v, want ENOENT", err)
	}
	if got := children(t); len(got) != 0 {
		t.Fatalf("children left: %v", got)
	}
	if after := openFDs(t); after > before {
		t.Fatalf("fds: %d before, %d after", before, after)
	}
}

func TestBadOptions(t *testing.T) {
	for _, o := range []pool.Options{
		{Size: -1}, {Concurrency: -2}, {MaxQueue: -1}, {TaskTimeout: -time.Second},
		{MaxMemory: -1}, {Retries: -1}, {Size: 2, MinSize: 3}, {IdleTimeout: -1},
	} {
		if _, err := pool.New(adder, &o); !errors.Is(err, pool.ErrBadOptions) {
			t.Errorf("New(%+v) = %v, want ErrBadOptions", o, err)
		}
	}
	if _, err := pool.New(pool.Worker[int, int]{}, nil); !errors.Is(err, pool.ErrBadOptions) {
		t.Errorf("New without Start: %v", err)
	}
}

// Workers that keep dying at start put the pool in a crash loop: tasks
// fail with ErrCrashLoop until a start succeeds.
func TestCrashLoop(t *testing.T) {
	var bad atomic.Bool
	w := pool.Worker[job, string]{Start: func(ctx context.Context, o *childproc.Options) (*childproc.Child, error) {
		if bad.Load() {
			return brokenWorker().Start(ctx, o)
		}
		return tester.Start(ctx, o)
	}}
	p := newPool(t, w, &pool.Options{Size: 1, Child: quiet()})
	bad.Store(true)
	if _, err := p.Do(context.Background(), job{Exit: 1}); err == nil {
		t.Fatal("crash succeeded")
	}
	var err error
	eventually(t, 10*time.Second, "ErrCrashLoop", func() bool {
		_, err = p.Do(context.Background(), job{})
		return errors.Is(err, pool.ErrCrashLoop)
	})
	var we *pool.WorkerError
	if !errors.As(err, &we) || string(we.Stderr) != "cannot start: no config\n" {
		t.Fatalf("crash loop error without the last start's: %v", err)
	}
	restarts := p.Stats().Restarts
	time.Sleep(300 * time.Millisecond)
	if r := p.Stats().Restarts; r > restarts+3 {
		t.Fatalf("hot restart loop: %d restarts in 300ms", r-restarts)
	}
	bad.Store(false)
	eventually(t, 15*time.Second, "recovery", func() bool {
		got, err := p.Do(context.Background(), job{Value: "back"})
		return err == nil && got == "back"
	})
}

// Shutdown lets queued and running tasks finish, refuses new ones and
// leaves nothing behind.
func TestShutdownDrains(t *testing.T) {
	leakCheck(t)
	p, err := pool.New(tester, &pool.Options{Size: 2, Child: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 10)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = p.Do(context.Background(), job{Sleep: 100 * time.Millisecond})
		}()
	}
	eventually(t, 2*time.Second, "tasks queued", func() bool { return p.Stats().Queued > 0 })
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil && !errors.Is(err, pool.ErrClosed) {
			t.Errorf("task %d: %v", i, err)
		}
	}
	done := 0
	for _, err := range errs {
		if err == nil {
			done++
		}
	}
	if done < 2 { // the ones submitted before Shutdown all ran; late starters may be refused
		t.Errorf("only %d tasks drained", done)
	}
	if _, err := p.Do(context.Background(), job{}); !errors.Is(err, pool.ErrClosed) {
		t.Fatalf("Do after Shutdown: %v", err)
	}
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatalf("second Shutdown: %v", err)
	}
	p.Close()
	if got := children(t); len(got) != 0 {
		t.Fatalf("children left: %v", got)
	}
}

func TestShutdownDeadlineStopsLikeClose(t *testing.T) {
	leakCheck(t)
	o := quiet()
	o.ForceKillAfter = 200 * time.Millisecond
	p, err := pool.New(tester, &pool.Options{Size: 1, Child: o})
	if err != nil {
		t.Fatal(err)
	}
	res := make(chan error)
	go func() { _, err := p.Do(context.Background(), job{Hang: true, NoTerm: true}); res <- err }()
	eventually(t, 2*time.Second, "busy", func() bool { return p.Stats().Busy == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := p.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := <-res; !errors.Is(err, pool.ErrClosed) {
		t.Fatalf("hung task: %v, want ErrClosed", err)
	}
	if got := children(t); len(got) != 0 {
		t.Fatalf("children left: %v", got)
	}
}

func TestCloseFailsEverything(t *testing.T) {
	leakCheck(t)
	p, err := pool.New(tester, &pool.Options{Size: 1, MaxQueue: 1, Child: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	res := make(chan error, 3)
	for range 3 { // running, queued, waiting for room
		go func() { _, err := p.Do(context.Background(), job{Sleep: 10 * time.Second}); res <- err }()
	}
	eventually(t, 2*time.Second, "all three in", func() bool { s := p.Stats(); return s.Busy == 1 && s.Queued == 2 })
	time.Sleep(50 * time.Millisecond)
	var wg sync.WaitGroup
	for range 3 { // Close from several goroutines, and Shutdown too
		wg.Add(2)
		go func() { defer wg.Done(); p.Close() }()
		go func() {
			defer wg.Done()
			if err := p.Shutdown(context.Background()); err != nil && !errors.Is(err, pool.ErrClosed) {
				t.Errorf("Shutdown beside Close: %v", err)
			}
		}()
	}
	wg.Wait()
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown after Close: %v", err)
	}
	for range 3 {
		if err := <-res; !errors.Is(err, pool.ErrClosed) {
			t.Fatalf("task at Close: %v", err)
		}
	}
	if got := children(t); len(got) != 0 {
		t.Fatalf("children left: %v", got)
	}
}

// New starts the workers in parallel.
func TestNewStartsInParallel(t *testing.T) {
	var mu sync.Mutex
	var live, peak int
	w := pool.Worker[job, string]{Start: func(ctx context.Context, o *childproc.Options) (*childproc.Child, error) {
		mu.Lock()
		live++
		peak = max(peak, live)
		mu.Unlock()
		time.Sleep(200 * time.Millisecond)
		mu.Lock()
		live--
		mu.Unlock()
		return tester.Start(ctx, o)
	}}
	newPool(t, w, &pool.Options{Size: 4, Child: quiet()})
	if peak != 4 {
		t.Fatalf("at most %d starts at once, want 4", peak)
	}
}

func TestMapKeepsOrder(t *testing.T) {
	leakCheck(t)
	p := newPool(t, tester, &pool.Options{Size: 2, Concurrency: 4, Child: quiet()})
	reqs := func(yield func(job) bool) {
		for i := range 200 {
			if !yield(job{Sleep: time.Duration(i%7) * time.Millisecond, Value: strconv.Itoa(i)}) {
				return
			}
		}
	}
	var got []string
	for resp, err := range p.Map(context.Background(), reqs) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, resp)
	}
	for i, s := range got {
		if s != strconv.Itoa(i) {
			t.Fatalf("result %d is %q", i, s)
		}
	}
	if len(got) != 200 {
		t.Fatalf("%d results", len(got))
	}
	// Breaking early abandons what is in flight.
	n := 0
	for range p.Map(context.Background(), reqs) {
		if n++; n == 5 {
			break
		}
	}
	eventually(t, 5*time.Second, "abandoned tasks done", func() bool { s := p.Stats(); return s.Busy == 0 && s.Queued == 0 })
	// Per-item errors keep their place.
	var errs []bool
	for _, err := range p.Map(context.Background(), slices.Values([]job{{}, {Fail: "x"}, {}})) {
		errs = append(errs, err != nil)
	}
	if !slices.Equal(errs, []bool{false, true, false}) {
		t.Fatalf("errors at %v", errs)
	}
}

// Workers killed all at once, with their replacements failing at start
// together, are one failure, not a crash loop: the tasks that were
// running are run again on the workers started after it, and none
// fails with ErrCrashLoop.
func TestAllKilledAtOnceNoCrashLoop(t *testing.T) {
	const size = 3
	var starts atomic.Int32
	w := pool.Worker[job, string]{Start: func(ctx context.Context, o *childproc.Options) (*childproc.Child, error) {
		if n := starts.Add(1); n > size && n <= 2*size {
			return brokenWorker().Start(ctx, o) // the replacements of the killed ones
		}
		return tester.Start(ctx, o)
	}}
	p := newPool(t, w, &pool.Options{Size: size, Concurrency: 1, Retries: 3, Child: quiet()})
	errs := make(chan error, 2*size)
	for range 2 * size {
		go func() {
			_, err := p.Do(context.Background(), job{Sleep: 300 * time.Millisecond})
			errs <- err
		}()
	}
	eventually(t, 10*time.Second, "every worker busy", func() bool { return p.Stats().Busy == size })
	for _, pid := range children(t) {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	for range 2 * size {
		if err := <-errs; err != nil {
			t.Errorf("Do after the workers were killed at once: %v", err)
		}
	}
	if n := starts.Load(); n < 2*size+1 {
		t.Fatalf("%d starts", n)
	}
}
