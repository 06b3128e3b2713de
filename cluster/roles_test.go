package cluster_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/childproc/childproc"
	"github.com/childproc/childproc/cluster"
	"github.com/childproc/childproc/pool"
)

// The test binary runs again as the fault tests' processes: an
// embedded server, a worker or a submitter, chosen by envRole and
// configured by the other variables.
const (
	envRole       = "CLUSTER_TEST_ROLE"
	envDir        = "CLUSTER_TEST_DIR"     // server: its directory
	envHost       = "CLUSTER_TEST_HOST"    // server: its address
	envPort       = "CLUSTER_TEST_PORT"    // server: its port
	envURL        = "CLUSTER_TEST_URL"     // worker, submitter: the server
	envToken      = "CLUSTER_TEST_TOKEN"   // worker, submitter: its token
	envPool       = "CLUSTER_TEST_POOL"    // worker, submitter: the pool's name
	envWorkerName = "CLUSTER_TEST_WORKER"  // worker: its name, in answers
	envSlots      = "CLUSTER_TEST_SLOTS"   // worker: its local pool's size
	envAckWait    = "CLUSTER_TEST_ACKWAIT" // worker: Options.AckWait
	envBatch      = "CLUSTER_TEST_BATCH"   // submitter: the batch's name
	envJobs       = "CLUSTER_TEST_JOBS"    // submitter: how many jobs
	envSleep      = "CLUSTER_TEST_SLEEP"   // submitter: each job's sleep
	envRuns       = "CLUSTER_TEST_RUNS"    // submitter: the jobs' Runs directory
	envOut        = "CLUSTER_TEST_OUT"     // submitter: a file of one line per result
)

// runRole runs the role named in the environment, if any, and exits.
func runRole() {
	role := os.Getenv(envRole)
	if role == "" {
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	var err error
	switch role {
	case "server":
		err = roleServer(ctx)
	case "worker":
		err = roleWorker(ctx)
	case "submitter":
		err = roleSubmitter(ctx)
	default:
		err = fmt.Errorf("unknown role %q", role)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", role, err)
		os.Exit(1)
	}
	os.Exit(0)
}

func envInt(name string) int {
	n, _ := strconv.Atoi(os.Getenv(name))
	return n
}

// roleServer runs an embedded server until it is signalled (or killed),
// and says "ready URL" on stdout once it listens.
func roleServer(ctx context.Context) error {
	srv, err := cluster.StartServer(&cluster.ServerOptions{Dir: os.Getenv(envDir), Host: os.Getenv(envHost), Port: envInt(envPort)})
	if err != nil {
		return err
	}
	defer srv.Close()
	fmt.Println("ready", srv.URL())
	<-ctx.Done()
	return nil
}

func roleConnect() (*nats.Conn, error) {
	return cluster.Connect(os.Getenv(envURL), nats.Token(os.Getenv(envToken)))
}

// roleWorker serves the pool with a local pool of jobWorker, and says
// "serving" on stdout once connected.
func roleWorker(ctx context.Context) error {
	nc, err := roleConnect()
	if err != nil {
		return err
	}
	defer nc.Close()
	local, err := pool.New(jobWorker, &pool.Options{Size: envInt(envSlots)})
	if err != nil {
		return err
	}
	defer local.Close()
	fmt.Println("serving")
	return cluster.Serve(ctx, nc, os.Getenv(envPool), local, &cluster.Options{AckWait: time.Duration(envInt(envAckWait))})
}

// roleSubmitter runs a durable batch of jobs and appends "N WORKER" to
// the out file for each result, in order.
func roleSubmitter(ctx context.Context) error {
	nc, err := roleConnect()
	if err != nil {
		return err
	}
	defer nc.Close()
	p, err := cluster.New[job, answer](nc, os.Getenv(envPool), nil)
	if err != nil {
		return err
	}
	defer p.Close()
	out, err := os.OpenFile(os.Getenv(envOut), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer out.Close()
	if os.Getenv("CLUSTER_TEST_SAY") != "" {
		fmt.Println("submitting")
	}
	sleep := time.Duration(envInt(envSleep))
	i := 0
	for a, err := range p.MapBatch(ctx, os.Getenv(envBatch), jobs(envInt(envJobs), func(int) job { return job{Sleep: sleep, Runs: os.Getenv(envRuns)} })) {
		if err != nil {
			return fmt.Errorf("result %d: %w", i, err)
		}
		fmt.Fprintf(out, "%d %s\n", a.N, a.Worker)
		i++
	}
	return nil
}

// A proc is a process of the test binary in a role.
type proc struct {
	c     *childproc.Child
	lines *bufio.Scanner
}

// startRole starts the test binary in role, with env added, inside the
// network namespace ns unless it is "", and waits for its first line of
// stdout, which it returns. The process is killed at the end of the
// test if still running.
func startRole(t *testing.T, ns, role string, env ...string) (*proc, string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	name, args := exe, []string(nil)
	if ns != "" {
		name, args = "ip", []string{"netns", "exec", ns, exe}
	}
	c, err := childproc.Spawn(context.Background(), name, args, &childproc.Options{
		Env:   append(append(os.Environ(), envRole+"="+role), env...),
		Stdio: []any{childproc.Ignore, childproc.Pipe, childproc.Inherit},
	})
	if err != nil {
		t.Fatalf("starting the %s: %v", role, err)
	}
	t.Cleanup(func() {
		c.Kill(syscall.SIGKILL)
		c.Wait()
	})
	p := &proc{c: c, lines: bufio.NewScanner(c.Stdout)}
	first := make(chan string, 1)
	go func() {
		p.lines.Scan()
		first <- p.lines.Text()
		for p.lines.Scan() {
		}
	}()
	select {
	case line := <-first:
		if line == "" {
			t.Fatalf("the %s ended before saying it was ready: %v", role, c.Wait())
		}
		return p, line
	case <-time.After(60 * time.Second):
		t.Fatalf("the %s did not say it was ready within 60s", role)
	}
	return nil, ""
}

// kill SIGKILLs p and waits for it.
func (p *proc) kill() {
	p.c.Kill(syscall.SIGKILL)
	p.c.Wait()
}

// readLines returns the lines of the file at path, or none.
func readLines(path string) []string {
	b, err := os.ReadFile(path)
	if err != nil || len(b) == 0 {
		return nil
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}
