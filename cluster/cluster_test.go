package cluster_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/childproc/childproc"
	"github.com/childproc/childproc/cluster"
	"github.com/childproc/childproc/pool"
)

func TestDoAndMap(t *testing.T) {
	leakCheck(t)
	srv := startServer(t)
	nc := connect(t, srv)
	serveFunc(t, nc, "basic", &cluster.Options{Slots: 4})
	p := newPool(t, nc, "basic", nil)
	ctx := context.Background()
	got, err := p.Do(ctx, job{N: 41})
	if err != nil || got.N != 41 {
		t.Fatalf("Do = %+v, %v", got, err)
	}
	i := 0
	for a, err := range p.Map(ctx, jobs(500, nil)) {
		if err != nil || a.N != i {
			t.Fatalf("Map's result %d = %+v, %v", i, a, err)
		}
		i++
	}
	if i != 500 {
		t.Fatalf("Map yielded %d results, want 500", i)
	}
	if s := p.Stats(); s.Done != 501 || s.Failed != 0 || s.Pending != 0 || s.Duplicates != 0 {
		t.Fatalf("Stats = %+v", s)
	}
}

func TestTaskError(t *testing.T) {
	srv := startServer(t)
	nc := connect(t, srv)
	serveFunc(t, nc, "errs", nil)
	p := newPool(t, nc, "errs", nil)
	_, err := p.Do(context.Background(), job{Fail: "bad thing"})
	var te *pool.TaskError
	if !errors.As(err, &te) || te.Message != "bad thing" || te.Name != "*errors.errorString" {
		t.Fatalf("Do = %v (%#v), want the TaskError", err, err)
	}
	_ = time.Second
}

// serveLocal runs Serve with a local pool of jobWorker until the end of
// the test.
func serveLocal(t *testing.T, nc *nats.Conn, name string, size int, o *cluster.Options) {
	t.Helper()
	local, err := pool.New(jobWorker, &pool.Options{Size: size, Child: quietChild()})
	if err != nil {
		t.Fatalf("pool.New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cluster.Serve(ctx, nc, name, local, o) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		local.Close()
	})
}

func quietChild() *childproc.Options {
	return &childproc.Options{Stdio: []any{nil, nil, childproc.Ignore}}
}

func TestWrongTokenRefused(t *testing.T) {
	srv := startServer(t)
	for _, opts := range [][]nats.Option{nil, {nats.Token("wrong")}, {nats.Token(srv.Token() + "x")}} {
		nc, err := cluster.Connect(srv.URL(), opts...)
		if err == nil {
			nc.Close()
			t.Fatalf("Connect with %d options succeeded, want it refused", len(opts))
		}
		if !errors.Is(err, nats.ErrAuthorization) {
			t.Errorf("Connect's error = %v, want nats.ErrAuthorization", err)
		}
	}
	nc, err := cluster.ConnectLocal(srv.Dir())
	if err != nil {
		t.Fatalf("ConnectLocal: %v", err)
	}
	nc.Close()
	for name, want := range map[string]os.FileMode{"": 0o700, "token": 0o600, "url": 0o600} {
		fi, err := os.Stat(filepath.Join(srv.Dir(), name))
		if err != nil || fi.Mode().Perm() != want {
			t.Errorf("%q: %v, mode %v, want %v", name, err, fi.Mode().Perm(), want)
		}
	}
	// A token file that others may read is refused, by clients and by
	// the next server.
	os.Chmod(filepath.Join(srv.Dir(), "token"), 0o644)
	if nc, err := cluster.ConnectLocal(srv.Dir()); err == nil {
		nc.Close()
		t.Fatal("ConnectLocal took a token readable by others")
	}
	if _, err := cluster.ConnectLocal(t.TempDir()); !errors.Is(err, cluster.ErrNoServer) {
		t.Errorf("ConnectLocal of an empty directory: %v, want ErrNoServer", err)
	}
}

func TestTokenKeptAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	srv, err := cluster.StartServer(&cluster.ServerOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	token := srv.Token()
	srv.Close()
	if _, err := os.Stat(filepath.Join(dir, "url")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("url file after Close: %v", err)
	}
	srv, err = cluster.StartServer(&cluster.ServerOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if srv.Token() != token || len(token) < 32 {
		t.Errorf("token %q after a restart, was %q", srv.Token(), token)
	}
}

func TestBadMessagesTerminated(t *testing.T) {
	srv := startServer(t)
	nc := connect(t, srv)
	serveFunc(t, nc, "bad", nil)
	p := newPool(t, nc, "bad", nil)
	if _, err := p.Do(context.Background(), job{N: 1}); err != nil {
		t.Fatal(err)
	}
	terminated := make(chan string, 10)
	sub, err := nc.Subscribe("$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.CHILDPROC_bad_TASKS.CHILDPROC_bad", func(m *nats.Msg) {
		var adv struct{ Reason string }
		json.Unmarshal(m.Data, &adv)
		terminated <- adv.Reason
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	js, _ := jetstream.New(nc)
	ctx := context.Background()
	noHeader := nats.NewMsg("childproc.bad.task.x.1")
	noHeader.Data = []byte("hello")
	otherVersion := nats.NewMsg("childproc.bad.task.x.2")
	otherVersion.Header.Set("Childproc-Task", "99")
	badSubject := nats.NewMsg("childproc.bad.task.x")
	badSubject.Header.Set("Childproc-Task", "1")
	for _, m := range []*nats.Msg{noHeader, otherVersion, badSubject} {
		if _, err := js.PublishMsg(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"no Childproc-Task header", `protocol "99"`, "is not childproc.POOL.task.BATCH.INDEX"}
	var got []string
	for range want {
		select {
		case r := <-terminated:
			got = append(got, r)
		case <-time.After(20 * time.Second):
			t.Fatalf("terminated %q only", got)
		}
	}
	for _, w := range want {
		if !slices.ContainsFunc(got, func(r string) bool { return strings.Contains(r, w) }) {
			t.Errorf("no termination reason contains %q: %q", w, got)
		}
	}
	// A request the handler cannot decode is answered with ErrBadTask.
	strs, err := cluster.New[string, answer](nc, "bad", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer strs.Close()
	if _, err := strs.Do(ctx, "not a job"); !errors.Is(err, cluster.ErrBadTask) {
		t.Errorf("Do of a request of another type: %v, want ErrBadTask", err)
	}
	// The worker lives on.
	if a, err := p.Do(ctx, job{N: 2}); err != nil || a.N != 2 {
		t.Fatalf("Do after the bad messages = %+v, %v", a, err)
	}
}

func TestPoisonDeadLettered(t *testing.T) {
	srv := startServer(t)
	nc := connect(t, srv)
	o := &cluster.Options{MaxDeliver: 3}
	serveLocal(t, nc, "poison", 2, o)
	p := newPool(t, nc, "poison", o)
	runs := t.TempDir()
	i := 0
	for a, err := range p.MapBatch(context.Background(), "b1", jobs(20, func(i int) job {
		return job{Crash: i == 7, Runs: runs, Sleep: 10 * time.Millisecond}
	})) {
		if i != 7 {
			if err != nil || a.N != i {
				t.Errorf("result %d = %+v, %v", i, a, err)
			}
			i++
			continue
		}
		var dead *cluster.DeadLetterError
		var werr *pool.WorkerError
		if !errors.As(err, &dead) || !errors.Is(err, cluster.ErrDeadLetter) || dead.Task != "b1.7" || dead.Deliveries != 3 || !errors.As(err, &werr) {
			t.Errorf("poison task's result: %v (%#v), want a DeadLetterError after 3 deliveries with a WorkerError", err, err)
		}
		i++
	}
	for n, c := range runsOf(t, runs) {
		if (n == 7 && c != 3) || (n != 7 && c != 1) {
			t.Errorf("task %d ran %d times", n, c)
		}
	}
	js, _ := jetstream.New(nc)
	s, _ := js.Stream(context.Background(), "CHILDPROC_poison_RESULTS")
	letter, err := s.GetLastMsgForSubject(context.Background(), "childproc.poison.dead.b1.7")
	if err != nil || !strings.Contains(string(letter.Data), `"Crash":true`) || !strings.Contains(letter.Header.Get("Childproc-Error"), "exit status 7") {
		t.Errorf("dead letter: %v, %+v", err, letter)
	}
}

func TestTaskRetries(t *testing.T) {
	srv := startServer(t)
	nc := connect(t, srv)
	serveFunc(t, nc, "retries", nil)
	p := newPool(t, nc, "retries", &cluster.Options{TaskRetries: 2})
	runs := t.TempDir()
	_, err := p.Do(context.Background(), job{Fail: "again", Runs: runs})
	var te *pool.TaskError
	if !errors.As(err, &te) || te.Message != "again" {
		t.Fatalf("Do = %v, want the TaskError", err)
	}
	if n := runsOf(t, runs)[0]; n != 3 {
		t.Errorf("the task ran %d times, want 3 (TaskRetries 2)", n)
	}
}

func TestDurableBatchResumes(t *testing.T) {
	srv := startServer(t)
	nc := connect(t, srv)
	serveFunc(t, nc, "durable", &cluster.Options{Slots: 2})
	runs := t.TempDir()
	input := jobs(30, func(i int) job { return job{Runs: runs, Sleep: 20 * time.Millisecond} })
	ctx := context.Background()
	p := newPool(t, nc, "durable", &cluster.Options{MaxPending: 8})
	n := 0
	for a, err := range p.MapBatch(ctx, "run1", input) {
		if err != nil || a.N != n {
			t.Fatalf("result %d = %+v, %v", n, a, err)
		}
		if n++; n == 10 {
			break
		}
	}
	p.Close()
	st, err := p.Batch(ctx, "run1")
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Done) < 10 || len(st.Done)+len(st.Queued) > 18 || st.Done[0] != 0 {
		t.Errorf("after 10 results with 8 pending at most: %+v", st)
	}
	p2 := newPool(t, nc, "durable", nil)
	n = 0
	for a, err := range p2.MapBatch(ctx, "run1", input) {
		if err != nil || a.N != n {
			t.Fatalf("result %d after the restart = %+v, %v", n, a, err)
		}
		n++
	}
	if n != 30 {
		t.Fatalf("%d results, want 30", n)
	}
	for i, c := range runsOf(t, runs) {
		if c != 1 {
			t.Errorf("task %d ran %d times", i, c)
		}
	}
	if st, err := p2.Batch(ctx, "run1"); err != nil || len(st.Done) != 30 || len(st.Queued) != 0 {
		t.Errorf("Batch after it all = %+v, %v", st, err)
	}
	if err := p2.DeleteBatch(ctx, "run1"); err != nil {
		t.Fatal(err)
	}
	if st, err := p2.Batch(ctx, "run1"); err != nil || len(st.Done)+len(st.Queued) != 0 {
		t.Errorf("Batch after DeleteBatch = %+v, %v", st, err)
	}
	for _, bad := range []string{"", "a.b", "a b", strings.Repeat("x", 65), "*"} {
		for _, err := range p2.MapBatch(ctx, bad, input) {
			if !errors.Is(err, cluster.ErrBadName) {
				t.Errorf("MapBatch(%q): %v, want ErrBadName", bad, err)
			}
		}
		if _, err := p2.Batch(ctx, bad); !errors.Is(err, cluster.ErrBadName) {
			t.Errorf("Batch(%q): %v, want ErrBadName", bad, err)
		}
	}
}

func TestShutdownWaitsCloseFails(t *testing.T) {
	srv := startServer(t)
	nc := connect(t, srv)
	serveFunc(t, nc, "stop", &cluster.Options{Slots: 4})
	p := newPool(t, nc, "stop", nil)
	ctx := context.Background()
	results := make(chan error, 4)
	for range 4 {
		go func() {
			_, err := p.Do(ctx, job{Sleep: 300 * time.Millisecond})
			results <- err
		}()
	}
	for p.Stats().Pending < 4 {
		time.Sleep(time.Millisecond)
	}
	if err := p.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	for range 4 {
		if err := <-results; err != nil {
			t.Errorf("a Do under Shutdown: %v", err)
		}
	}
	if _, err := p.Do(ctx, job{}); !errors.Is(err, pool.ErrClosed) {
		t.Errorf("Do after Shutdown: %v, want ErrClosed", err)
	}

	q := newPool(t, nc, "stop", nil)
	go func() {
		_, err := q.Do(ctx, job{Sleep: 10 * time.Second})
		results <- err
	}()
	for q.Stats().Pending < 1 {
		time.Sleep(time.Millisecond)
	}
	q.Close()
	select {
	case err := <-results:
		if !errors.Is(err, pool.ErrClosed) {
			t.Errorf("a Do under Close: %v, want ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close left a Do waiting")
	}
	if err := q.Shutdown(ctx); !errors.Is(err, pool.ErrClosed) || q.Close() != nil {
		t.Errorf("Shutdown after Close: %v", err)
	}
}

func TestDoCancelledUnqueues(t *testing.T) {
	srv := startServer(t)
	nc := connect(t, srv)
	p := newPool(t, nc, "cancel", nil)
	runs := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := p.Do(ctx, job{Runs: runs}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Do with no worker: %v, want the deadline", err)
	}
	js, _ := jetstream.New(nc)
	s, _ := js.Stream(context.Background(), "CHILDPROC_cancel_TASKS")
	deadline := time.Now().Add(10 * time.Second)
	for {
		info, err := s.Info(context.Background())
		if err == nil && info.State.Msgs == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the abandoned task is still queued: %v, %+v", err, info)
		}
		time.Sleep(10 * time.Millisecond)
	}
	serveFunc(t, nc, "cancel", nil)
	if _, err := p.Do(context.Background(), job{N: 3}); err != nil {
		t.Fatal(err)
	}
	if r := runsOf(t, runs); len(r) != 0 {
		t.Errorf("the abandoned task ran: %v", r)
	}
	if s := p.Stats(); s.Pending != 0 || s.Done != 1 {
		t.Errorf("Stats = %+v", s)
	}
}

// Map yields a result while its input waits for its next request, as
// a local pool's Map reading a slow input does.
func TestMapYieldsBeforeNextRequest(t *testing.T) {
	srv := startServer(t)
	nc := connect(t, srv)
	serveFunc(t, nc, "slowinput", nil)
	p := newPool(t, nc, "slowinput", nil)
	first := make(chan struct{})
	waited := make(chan bool, 1)
	input := func(yield func(job) bool) {
		if !yield(job{N: 0}) {
			return
		}
		select {
		case <-first:
			waited <- true
		case <-time.After(20 * time.Second):
			waited <- false
		}
		yield(job{N: 1})
	}
	n := 0
	for a, err := range p.Map(context.Background(), input) {
		if err != nil || a.N != n {
			t.Fatalf("result %d = %+v, %v", n, a, err)
		}
		if n == 0 {
			close(first)
		}
		n++
	}
	if !<-waited || n != 2 {
		t.Fatalf("Map waited for the next request before yielding the first result (%d results)", n)
	}
}

func TestTooLarge(t *testing.T) {
	srv := startServer(t)
	nc := connect(t, srv)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- cluster.ServeFunc(ctx, nc, "large", func(ctx context.Context, n int) (string, error) {
			return strings.Repeat("x", n), nil
		}, nil)
	}()
	defer func() { cancel(); <-done }()
	p, err := cluster.New[int, string](nc, "large", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, err := p.Do(ctx, 9<<20); !errors.Is(err, cluster.ErrTooLarge) {
		t.Errorf("Do of a 9 MiB response: %v, want ErrTooLarge", err)
	}
	if s, err := p.Do(ctx, 1<<20); err != nil || len(s) != 1<<20 {
		t.Errorf("Do of a 1 MiB response: %d bytes, %v", len(s), err)
	}
	big, err := cluster.New[string, string](nc, "large", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer big.Close()
	start := time.Now()
	if _, err := big.Do(ctx, strings.Repeat("x", 9<<20)); !errors.Is(err, cluster.ErrTooLarge) || time.Since(start) > 5*time.Second {
		t.Errorf("Do of a 9 MiB request: %v after %v, want ErrTooLarge at once", err, time.Since(start))
	}
}

// A Do whose context ends cancels its task on the worker that runs it.
func TestDoCancelReachesHandler(t *testing.T) {
	srv := startServer(t)
	nc := connect(t, srv)
	cancelled := make(chan error, 1)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- cluster.ServeFunc(ctx, nc, "cancelrun", func(ctx context.Context, d time.Duration) (int, error) {
			select {
			case <-time.After(d):
				return 1, nil
			case <-ctx.Done():
				cancelled <- ctx.Err()
				return 0, ctx.Err()
			}
		}, nil)
	}()
	defer func() { stop(); <-done }()
	p, err := cluster.New[time.Duration, int](nc, "cancelrun", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	short, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if _, err := p.Do(short, time.Minute); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Do = %v, want the deadline", err)
	}
	select {
	case <-cancelled:
	case <-time.After(10 * time.Second):
		t.Fatal("the running task's handler was not cancelled")
	}
	// Its one slot is free again.
	if n, err := p.Do(context.Background(), time.Millisecond); err != nil || n != 1 {
		t.Fatalf("Do after the cancel = %d, %v", n, err)
	}
}

// ConnectLocal's connection follows its directory's server when
// another one replaces it on another port.
func TestConnectLocalFollowsServer(t *testing.T) {
	dir := t.TempDir()
	first, err := cluster.StartServer(&cluster.ServerOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	nc, err := cluster.ConnectLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	first.Close()
	second, err := cluster.StartServer(&cluster.ServerOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	if second.URL() == first.URL() {
		t.Skipf("the second server took the first one's port")
	}
	waitFor(t, 20*time.Second, "the reconnection", func() bool { return nc.IsConnected() })
	if got := nc.ConnectedUrl(); got != first.URL() {
		t.Logf("connected to %s", got)
	}
	serveFunc(t, nc, "follow", nil)
	p := newPool(t, nc, "follow", nil)
	if _, err := p.Do(context.Background(), job{N: 1}); err != nil {
		t.Fatal(err)
	}
}

// A panic of Map's input reaches Map's caller.
func TestMapInputPanics(t *testing.T) {
	srv := startServer(t)
	nc := connect(t, srv)
	p := newPool(t, nc, "panics", nil)
	defer func() {
		if v := recover(); v != "input broke" {
			t.Fatalf("recovered %v, want the input's panic", v)
		}
	}()
	for range p.Map(context.Background(), func(yield func(job) bool) { panic("input broke") }) {
	}
	t.Fatal("Map returned")
}

// A task whose handler returns as its Serve stops is still answered,
// not left to run again.
func TestServeStopsHandsOverEnded(t *testing.T) {
	srv := startServer(t)
	nc := connect(t, srv)
	started := make(chan struct{})
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- cluster.ServeFunc(ctx, nc, "handover", func(_ context.Context, n int) (int, error) {
			close(started)
			time.Sleep(300 * time.Millisecond) // ignores the cancel
			return n + 1, nil
		}, nil)
	}()
	p, err := cluster.New[int, int](nc, "handover", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	go func() { <-started; stop() }()
	short, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if n, err := p.Do(short, 1); err != nil || n != 2 {
		t.Fatalf("Do = %d, %v; want the answer of the task that ended as Serve stopped", n, err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestStopStartsNoQueuedTask: with 4 tasks running on two workers and
// 36 queued, neither Close nor the end of Map's ctx lets a worker start
// a queued task, not even in the slots that the cancelled tasks free;
// the running tasks are cancelled. Each stop runs 3 times, to catch a
// worker that takes a queued task between the cancellations and the
// removal from the queue.
func TestStopStartsNoQueuedTask(t *testing.T) {
	srv := startServer(t)
	nc := connect(t, srv)
	serveFunc(t, nc, "stops", &cluster.Options{Slots: 2})
	serveFunc(t, nc, "stops", &cluster.Options{Slots: 2})
	for _, stop := range []struct {
		name string
		stop func(p *cluster.Pool[job, answer], cancel context.CancelFunc)
	}{
		{"Close", func(p *cluster.Pool[job, answer], _ context.CancelFunc) { p.Close() }},
		{"Map's ctx", func(_ *cluster.Pool[job, answer], cancel context.CancelFunc) { cancel() }},
	} {
		for round := range 3 {
			p := newPool(t, nc, "stops", nil)
			runs := t.TempDir()
			ctx, cancel := context.WithCancel(context.Background())
			mapped := make(chan []error, 1)
			go func() {
				var errs []error
				for _, err := range p.Map(ctx, jobs(40, func(int) job { return job{Sleep: time.Minute, Runs: runs} })) {
					errs = append(errs, err)
				}
				mapped <- errs
			}()
			waitFor(t, 10*time.Second, "4 tasks running", func() bool { return len(runsOf(t, runs)) == 4 })
			time.Sleep(100 * time.Millisecond) // nothing else starts: every slot is taken
			stop.stop(p, cancel)
			var errs []error
			select {
			case errs = <-mapped:
			case <-time.After(10 * time.Second):
				t.Fatalf("%s, round %d: Map did not end", stop.name, round)
			}
			time.Sleep(500 * time.Millisecond) // for a task that a worker took to start
			if r := runsOf(t, runs); len(r) != 4 {
				t.Errorf("%s, round %d: tasks %v started, want only the 4 running at the stop", stop.name, round, r)
			}
			for _, err := range errs {
				if !errors.Is(err, pool.ErrClosed) && !errors.Is(err, context.Canceled) {
					t.Errorf("%s, round %d: a task's error %v, want ErrClosed or the ctx's", stop.name, round, err)
				}
			}
			cancel()
			p.Close()
		}
	}
	// The workers' slots are free again: a task runs at once.
	p := newPool(t, nc, "stops", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := p.Do(ctx, job{N: 1}); err != nil {
		t.Errorf("Do after the stops: %v", err)
	}
}

// TestCancelBeforeTaskArrives: a cancellation that reaches a worker
// before the task it names (a task that was on its way to the worker
// when its submitter withdrew it) keeps the worker from running the
// task; the other tasks run.
func TestCancelBeforeTaskArrives(t *testing.T) {
	srv := startServer(t)
	nc := connect(t, srv)
	serveFunc(t, nc, "early", nil)
	p := newPool(t, nc, "early", nil)
	if _, err := p.Do(context.Background(), job{}); err != nil { // the worker is serving
		t.Fatal(err)
	}
	cancelAhead(t, nc, "childproc.early.cancel.b.0")
	runs := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var errs []error
	for _, err := range p.MapBatch(ctx, "b", jobs(2, func(int) job { return job{Runs: runs} })) {
		errs = append(errs, err)
	}
	if len(errs) != 1 || !errors.Is(errs[0], context.DeadlineExceeded) {
		t.Errorf("MapBatch: %v, want the deadline for task 0, which no worker answers", errs)
	}
	if r := runsOf(t, runs); len(r) != 1 || r[1] != 1 {
		t.Errorf("runs %v, want task 1 once and task 0 not at all", r)
	}
}
