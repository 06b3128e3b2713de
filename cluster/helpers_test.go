package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"go.uber.org/goleak"

	"github.com/childproc/childproc/cluster"
	"github.com/childproc/childproc/pool"
)

// A job tells the test handler what to do.
type job struct {
	N     int           // the task's number, echoed in the answer
	Sleep time.Duration // sleep this long first (or until cancelled)
	Fail  string        // return an error with this message
	Crash bool          // kill the process that runs the handler (a poison task)
	Runs  string        // a directory where each run leaves a file named N.PID.NANOS
}

// An answer is what the test handler returns.
type answer struct {
	N      int
	Pid    int
	Worker string // the worker process's name (roleWorkerName), inherited by its local pool
}

func runJob(ctx context.Context, j job) (answer, error) {
	if j.Runs != "" {
		name := fmt.Sprintf("%d.%s.%d.%d", j.N, os.Getenv(envWorkerName), os.Getpid(), time.Now().UnixNano())
		os.WriteFile(filepath.Join(j.Runs, name), nil, 0o600)
	}
	if j.Crash {
		os.Exit(7)
	}
	if j.Sleep > 0 {
		select {
		case <-time.After(j.Sleep):
		case <-ctx.Done():
			return answer{}, ctx.Err()
		}
	}
	if j.Fail != "" {
		return answer{}, errors.New(j.Fail)
	}
	return answer{N: j.N, Pid: os.Getpid(), Worker: os.Getenv(envWorkerName)}, nil
}

// jobWorker is the local pools' Go worker.
var jobWorker = pool.Register("cluster-test-job", runJob)

// startServer starts an embedded server in a directory of the test's.
func startServer(t *testing.T) *cluster.Server {
	t.Helper()
	srv, err := cluster.StartServer(&cluster.ServerOptions{Dir: t.TempDir()})
	if err != nil {
		t.Fatalf("StartServer: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// connect connects to srv, closing the connection at the end of the test.
func connect(t *testing.T, srv *cluster.Server) *nats.Conn {
	t.Helper()
	nc, err := srv.Connect()
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// serveFunc runs ServeFunc with runJob until the end of the test.
func serveFunc(t *testing.T, nc *nats.Conn, name string, o *cluster.Options) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cluster.ServeFunc(ctx, nc, name, runJob, o) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("ServeFunc: %v", err)
		}
	})
}

// newPool makes a cluster pool closed at the end of the test.
func newPool(t *testing.T, nc *nats.Conn, name string, o *cluster.Options) *cluster.Pool[job, answer] {
	t.Helper()
	p, err := cluster.New[job, answer](nc, name, o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func leakCheck(t *testing.T) {
	t.Helper()
	t.Cleanup(func() {
		goleak.VerifyNone(t, goleak.IgnoreCurrent(), goleak.IgnoreAnyFunction("github.com/childproc/childproc/internal/guardian.reapGuardian"))
	})
}

// runsOf counts the runs recorded in dir by task number.
func runsOf(t *testing.T, dir string) map[int]int {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	runs := map[int]int{}
	for _, e := range ents {
		var n int
		fmt.Sscanf(e.Name(), "%d.", &n)
		runs[n]++
	}
	return runs
}

func jobs(n int, f func(i int) job) func(yield func(job) bool) {
	return func(yield func(job) bool) {
		for i := range n {
			j := job{N: i}
			if f != nil {
				j = f(i)
				j.N = i
			}
			if !yield(j) {
				return
			}
		}
	}
}

// waitFor polls cond until it holds, failing the test after d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
