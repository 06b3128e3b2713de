package cluster_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/childproc/childproc/cluster"
)

// workerEnv returns the environment of a worker process named name.
func workerEnv(url, token, pool, name string, slots int, ackWait time.Duration) []string {
	return []string{
		envURL + "=" + url, envToken + "=" + token, envPool + "=" + pool,
		envWorkerName + "=" + name, envSlots + "=" + strconv.Itoa(slots),
		envAckWait + "=" + strconv.FormatInt(int64(ackWait), 10),
	}
}

// collect runs Map over jobs in the background; it returns a channel
// of the error found (nil when every result came once, in order, and
// right) and a count of the results so far.
func collect(p *cluster.Pool[job, answer], n int, f func(int) job, workers map[string]int) (<-chan error, *atomic.Int64) {
	done := make(chan error, 1)
	var count atomic.Int64
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		i := 0
		for a, err := range p.Map(ctx, jobs(n, f)) {
			if err != nil || a.N != i {
				done <- fmt.Errorf("result %d = %+v, %v", i, a, err)
				return
			}
			if workers != nil {
				workers[a.Worker]++
			}
			i++
			count.Add(1)
		}
		if i != n {
			done <- fmt.Errorf("%d results, want %d", i, n)
			return
		}
		done <- nil
	}()
	return done, &count
}

// runningOn reports whether a run of worker name is recorded in runs.
func runningOn(runs, name string) bool {
	m, _ := filepath.Glob(filepath.Join(runs, "*."+name+".*"))
	return len(m) > 0
}

// Three machines, a worker process on each: one is SIGKILLed mid-task,
// another is cut off from the network (or, without namespaces, frozen)
// for longer than AckWait and then comes back. Every task completes,
// each result reaches the caller once, and the worker that came back
// serves again.
func TestWorkersKilledAndCutOff(t *testing.T) {
	lab := newNetLab(t, 3)
	host := "127.0.0.1"
	if lab != nil {
		host = lab.host
	}
	srv, err := cluster.StartServer(&cluster.ServerOptions{Dir: t.TempDir(), Host: host})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	nc := connect(t, srv)
	const ackWait = 2 * time.Second
	p := newPool(t, nc, "machines", &cluster.Options{AckWait: ackWait})
	workers := make([]*proc, 3)
	for i := range workers {
		ns := ""
		if lab != nil {
			ns = lab.spaces[i]
		}
		workers[i], _ = startRole(t, ns, "worker", workerEnv(srv.URL(), srv.Token(), "machines", fmt.Sprintf("w%d", i), 2, ackWait)...)
	}
	runs := t.TempDir()
	done, _ := collect(p, 60, func(int) job { return job{Sleep: 300 * time.Millisecond, Runs: runs} }, nil)
	waitFor(t, 30*time.Second, "w0 and w1 to run tasks", func() bool { return runningOn(runs, "w0") && runningOn(runs, "w1") })

	workers[0].kill()
	if lab != nil {
		lab.setLink(1, "down")
		time.Sleep(3 * ackWait)
		lab.setLink(1, "up")
	} else {
		t.Log("no namespaces: w1 is frozen (SIGSTOP) instead of cut off")
		workers[1].c.Kill(syscall.SIGSTOP)
		time.Sleep(3 * ackWait)
		workers[1].c.Kill(syscall.SIGCONT)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	runsOfTask := runsOf(t, runs)
	again := 0
	for i := range 60 {
		switch c := runsOfTask[i]; {
		case c == 0:
			t.Errorf("task %d never ran", i)
		case c > 1:
			again++
		}
	}
	if again == 0 {
		t.Errorf("no task ran again: the faults hit no running task")
	}
	t.Logf("%d tasks ran again after the faults; %d results dropped as duplicates", again, p.Stats().Duplicates)

	// The worker that was cut off serves again.
	served := map[string]int{}
	done, _ = collect(p, 40, func(int) job { return job{Sleep: 100 * time.Millisecond} }, served)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if served["w1"] == 0 || served["w0"] != 0 {
		t.Errorf("after the faults, tasks served by %v: want w1 back, and w0 gone", served)
	}
}

// freePort returns a port of 127.0.0.1 free at this moment.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startServerProc starts an embedded server in a process of its own,
// with its store in dir, on port, and returns it with its address.
func startServerProc(t *testing.T, dir string, port int) (*proc, string) {
	t.Helper()
	p, line := startRole(t, "", "server", envDir+"="+dir, envPort+"="+strconv.Itoa(port))
	url, ok := strings.CutPrefix(line, "ready ")
	if !ok {
		t.Fatalf("the server said %q", line)
	}
	return p, url
}

// The server (file store, a process of its own) is SIGKILLed mid-run
// and restarted on the same port and directory: the submitter and the
// worker processes reconnect by themselves, and no task is lost.
func TestServerKilledAndRestarted(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	server, url := startServerProc(t, dir, port)
	token, err := os.ReadFile(filepath.Join(dir, "token"))
	if err != nil {
		t.Fatal(err)
	}
	nc, err := cluster.Connect(url, nats.Token(string(token)))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	const ackWait = 2 * time.Second
	p := newPool(t, nc, "restart", &cluster.Options{AckWait: ackWait})
	for i := range 2 {
		startRole(t, "", "worker", workerEnv(url, string(token), "restart", fmt.Sprintf("w%d", i), 2, ackWait)...)
	}
	runs := t.TempDir()
	done, count := collect(p, 120, func(int) job { return job{Sleep: 100 * time.Millisecond, Runs: runs} }, nil)
	waitFor(t, 60*time.Second, "30 results", func() bool { return count.Load() >= 30 })
	server.kill()
	before := count.Load()
	time.Sleep(time.Second)
	startServerProc(t, dir, port)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for i, c := range runsOf(t, runs) {
		if c > 2 {
			t.Errorf("task %d ran %d times", i, c)
		}
	}
	if before >= 120 {
		t.Errorf("the server was killed after the last result: the test proves nothing")
	}
	t.Logf("killed after %d results; %d results dropped as duplicates", before, p.Stats().Duplicates)
}

// The submitter of a durable batch is SIGKILLed midway and started
// again with the same batch name: it collects every result once, in
// order, and no task runs twice.
func TestSubmitterKilledResumes(t *testing.T) {
	srv := startServer(t)
	for i := range 2 {
		startRole(t, "", "worker", workerEnv(srv.URL(), srv.Token(), "resume", fmt.Sprintf("w%d", i), 2, 0)...)
	}
	runs, out := t.TempDir(), t.TempDir()
	submitter := func(file string) *proc {
		p, _ := startRole(t, "", "submitter", envURL+"="+srv.URL(), envToken+"="+srv.Token(), envPool+"=resume",
			envBatch+"=nightly", envJobs+"=40", envSleep+"="+strconv.FormatInt(int64(100*time.Millisecond), 10),
			envRuns+"="+runs, envOut+"="+filepath.Join(out, file), "CLUSTER_TEST_SAY=1")
		return p
	}
	first := submitter("first")
	waitFor(t, 60*time.Second, "10 results", func() bool { return len(readLines(filepath.Join(out, "first"))) >= 10 })
	first.kill()
	killedAt := len(readLines(filepath.Join(out, "first")))
	second := submitter("second")
	if err := second.c.Wait(); err != nil {
		t.Fatalf("the second submitter: %v", err)
	}
	lines := readLines(filepath.Join(out, "second"))
	if len(lines) != 40 {
		t.Fatalf("the second submitter collected %d results, want 40", len(lines))
	}
	for i, l := range lines {
		if n, _, _ := strings.Cut(l, " "); n != strconv.Itoa(i) {
			t.Errorf("result %d is %q", i, l)
		}
	}
	for i := range 40 {
		if c := runsOf(t, runs)[i]; c != 1 {
			t.Errorf("task %d ran %d times", i, c)
		}
	}
	if killedAt >= 40 {
		t.Errorf("the first submitter was killed after its last result: the test proves nothing")
	}
	t.Logf("the first submitter was killed after %d results", killedAt)
}
