package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/spf13/pflag"

	"github.com/childproc/childproc"
	"github.com/childproc/childproc/cluster"
	"github.com/childproc/childproc/pool"
)

func init() {
	commands["worker"] = command{
		summary: "run the jobs of childproc parallel --cluster on this machine",
		main:    workerMain,
		usage:   workerUsage,
	}
}

// workerOptions is what the flags of childproc worker ask for.
type workerOptions struct {
	jobs    int
	cluster clusterOptions
}

// workerMain runs childproc worker until SIGINT, SIGTERM or SIGHUP, and
// returns its exit status: 0 once stopped by one of them, 255 for bad
// flags or a cluster that refuses it or fails.
func workerMain(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	o, err := parseWorker(args)
	if errors.Is(err, errHelp) {
		workerUsage(stdout)
		return 0
	}
	if err != nil {
		return failWorker(stderr, err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), stopSignals...)
	defer stop()
	nc, err := o.join(ctx, stderr)
	if err != nil {
		return failWorker(stderr, err)
	}
	if nc == nil {
		return 0 // stopped while waiting
	}
	defer nc.Close()
	local, err := pool.New(jobWorker, &pool.Options{Size: 1, Concurrency: o.jobs, Child: &childproc.Options{Env: jobEnv(), KillTree: true}})
	if err != nil {
		return failWorker(stderr, err)
	}
	defer local.Close()
	fmt.Fprintf(stderr, "childproc worker: running up to %d jobs at once from queue %s at %s\n", o.jobs, o.cluster.queue, redact(nc.ConnectedUrlRedacted()))
	if err := cluster.Serve(ctx, nc, o.cluster.queue, local, &cluster.Options{Slots: o.jobs}); err != nil {
		return failWorker(stderr, err)
	}
	return 0
}

// unsetGOMAXPROCS stands in the environment of the local pool's worker
// for a GOMAXPROCS that this process does not have: the pool sets none
// then (it would set one of its own), and the jobs get none.
const unsetGOMAXPROCS = "GOMAXPROCS="

// jobEnv is the environment of the local pool's worker, which its jobs
// get: this process's.
func jobEnv() []string {
	env := os.Environ()
	if _, ok := os.LookupEnv("GOMAXPROCS"); !ok {
		env = append(env, unsetGOMAXPROCS)
	}
	return env
}

// join connects to the cluster. For this user's embedded server it
// waits, until ctx ends, for a submitter to start one (nil, nil if ctx
// ended first).
func (o *workerOptions) join(ctx context.Context, stderr io.Writer) (*nats.Conn, error) {
	told := false
	for {
		nc, err := o.cluster.connect()
		if err == nil || o.cluster.url != localCluster || !noServerYet(err) {
			return nc, err
		}
		if !told {
			fmt.Fprintln(stderr, "childproc worker: waiting for this user's embedded server (childproc parallel --cluster starts it)")
			told = true
		}
		select {
		case <-ctx.Done():
			return nil, nil
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// noServerYet reports whether err says that no embedded server is
// running: none started yet, or the last one has gone.
func noServerYet(err error) bool {
	return errors.Is(err, cluster.ErrNoServer) || errors.Is(err, nats.ErrNoServers)
}

// failWorker reports an error on one line and returns 255.
func failWorker(stderr io.Writer, err error) int {
	fmt.Fprintf(stderr, "childproc worker: %s\n", strings.ReplaceAll(err.Error(), "\n", " "))
	return 255
}

// parseWorker reads the arguments of childproc worker.
func parseWorker(args []string) (*workerOptions, error) {
	o := &workerOptions{jobs: runtime.NumCPU()}
	fs, jobs := newWorkerFlags(o)
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	rest, err := o.cluster.takeURL(fs)
	if err != nil {
		return nil, err
	}
	if len(rest) > 0 {
		return nil, fmt.Errorf("unexpected argument %q (childproc worker takes flags only)", rest[0])
	}
	if *jobs != "" {
		if o.jobs, err = parseJobs(*jobs, runtime.NumCPU()); err != nil {
			return nil, err
		}
	}
	if o.jobs > maxWorkerJobs {
		return nil, fmt.Errorf("-j %s: a worker runs at most %d jobs at once", *jobs, maxWorkerJobs)
	}
	if o.cluster.url == "" {
		o.cluster.url = localCluster
	}
	return o, o.cluster.check()
}

// maxWorkerJobs bounds a worker's -j (0, as many as possible, included).
const maxWorkerJobs = 4096

func newWorkerFlags(o *workerOptions) (*pflag.FlagSet, *string) {
	fs := pflag.NewFlagSet("childproc worker", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.SortFlags = false
	jobs := new(string)
	fs.VarP(newStringValue(jobs), "jobs", "j", "run N jobs at once: N, +N, -N (CPUs plus or minus N), N% of the CPUs (default: the number of CPUs)")
	o.cluster.define(fs, "take jobs")
	fs.BoolP("help", "h", false, "show this help")
	return fs, jobs
}

// workerUsage writes childproc worker's --help.
func workerUsage(w io.Writer) {
	fmt.Fprint(w, `usage: childproc worker [--cluster [URL]] [-j N] [--queue NAME]

Runs the jobs that childproc parallel --cluster submits, N at a time, on
this machine, until SIGINT, SIGTERM or SIGHUP. Each job runs as it would
run locally: through this machine's shell and environment (or directly,
when its program is in this machine's PATH), with the submitter's
--timeout, --termseq, --retries and --memory, --cpu, --files; its output
goes back to the submitter, which prints and logs it.

Without --cluster, or with --cluster local, it joins this user's embedded
server, the one that childproc parallel --cluster starts on this machine
(waiting for one if none runs yet); its address and token are in
childproc/cluster under the user's cache directory ($XDG_CACHE_HOME or
~/.cache on Linux, ~/Library/Caches on macOS), readable by this user only. A job whose worker dies is run again by another
worker about 5 s later; its output is printed once.

Exit status: 0 once stopped by a signal; 255 for bad flags, a cluster
that refuses this worker (a wrong token or credentials) or that fails.

Options:
`)
	fs, _ := newWorkerFlags(&workerOptions{})
	fmt.Fprint(w, fs.FlagUsagesWrapped(80))
}
