package main

import (
	"context"
	"os"
	"slices"
	"syscall"
	"time"

	"github.com/childproc/childproc"
	"github.com/childproc/childproc/pool"
)

// A remoteJob is a job as it travels to a worker: its command as the
// submitter composed it, the submitter's choice of running it without
// a shell, and how to run it. The worker runs it with its own shell,
// environment and PATH.
type remoteJob struct {
	Seq     int    `json:"seq"`
	Slot    int    `json:"slot"`
	Command string `json:"command"`
	// Argv holds the words to run without a shell; nil means through
	// the shell. The worker looks Argv[0] up in its own PATH and runs
	// the command through its shell when it finds nothing there.
	Argv    []string         `json:"argv,omitempty"`
	Tries   int              `json:"tries"`
	Timeout time.Duration    `json:"timeout,omitempty"`
	Termseq []remoteTermStep `json:"termseq"`
	Limits  childproc.Limits `json:"limits"`
	// Skip marks a job that the submitter has accounted for already
	// (its joblog has it): the worker answers at once, running nothing.
	Skip bool `json:"skip,omitempty"`
}

// A remoteTermStep is a termStep as it travels: the signal's number
// and the wait after it.
type remoteTermStep struct {
	Signal int           `json:"signal"`
	Wait   time.Duration `json:"wait"`
}

// A jobOutcome is how a remote job ended, as the worker sends it back:
// what the submitter prints and logs.
type jobOutcome struct {
	Host     string        `json:"host"`
	Start    time.Time     `json:"start"`
	Runtime  time.Duration `json:"runtime"`
	Exit     int           `json:"exit"`
	Signal   int           `json:"signal"`
	TimedOut bool          `json:"timed_out,omitempty"`
	Note     string        `json:"note,omitempty"`
	Stdout   []byte        `json:"stdout"`
	Stderr   []byte        `json:"stderr"`
}

// jobWorker runs the jobs that childproc worker takes from a cluster,
// one job a task, in the processes of its local pool.
var jobWorker = pool.Register("childproc/parallel-job", runRemoteJob)

// runRemoteJob runs a job sent by a submitter, its attempts included,
// with the same executor as a local job. When ctx ends (the submitter
// gave up the job) the job is stopped with its termseq and the task
// fails with ctx's error.
func runRemoteJob(ctx context.Context, rj remoteJob) (jobOutcome, error) {
	if rj.Skip {
		return jobOutcome{}, nil
	}
	x := rj.executor()
	j := rj.job(x)
	defer j.closeOutput()
	defer context.AfterFunc(ctx, x.stopAll)()
	for {
		x.run(j, rj.Timeout)
		if j.leftover != nil {
			// What its tree left holding the output goes with the job: a
			// worker lives on after it.
			x.stopTree(j.leftover, func(os.Signal) {})
		}
		if !j.again(rj.Tries) || ctx.Err() != nil {
			break
		}
	}
	if j.stopped {
		return jobOutcome{}, context.Cause(ctx)
	}
	return outcomeOf(j), nil
}

// remote returns the job as it travels to a worker.
func (r *jobRunner) remote(j *job) remoteJob {
	rj := remoteJob{
		Seq: j.seq, Slot: j.slot, Command: j.cmd, Tries: r.o.retries,
		Timeout: r.timeoutFor(), Limits: r.o.limits,
	}
	if j.path != "" {
		rj.Argv = j.argv
	}
	for _, st := range r.o.termseq {
		rj.Termseq = append(rj.Termseq, remoteTermStep{signalNumber(st.sig), st.wait})
	}
	return rj
}

// executor returns the executor of one remote job: the worker's shell
// and environment (as childproc worker has it), the submitter's termseq
// and limits, output grouped.
func (rj *remoteJob) executor() *executor {
	o := &parallelOptions{shell: jobShell(), limits: rj.Limits, output: outputGroup}
	for _, st := range rj.Termseq {
		o.termseq = append(o.termseq, termStep{syscall.Signal(st.Signal), st.Wait})
	}
	if len(o.termseq) == 0 {
		o.termseq = defaultTermseq
	}
	x := newExecutor(o, nil, nil)
	x.env = slices.DeleteFunc(x.env, func(kv string) bool { return kv == unsetGOMAXPROCS })
	return x
}

// job returns the job to run: direct when the submitter chose so and
// the program is in this machine's PATH.
func (rj *remoteJob) job(x *executor) *job {
	j := &job{seq: rj.Seq, slot: rj.Slot, cmd: rj.Command}
	if len(rj.Argv) > 0 && os.Getenv("CHILDPROC_PARALLEL_DIRECT") != "0" {
		if path := newDirectRunner().lookPath(rj.Argv[0]); path != "" {
			j.path, j.argv = path, rj.Argv
		}
	}
	return j
}

// outcomeOf is how j ended, to send back.
func outcomeOf(j *job) jobOutcome {
	host, _ := os.Hostname()
	return jobOutcome{
		Host: host, Start: j.start, Runtime: j.runtime, Exit: j.exit, Signal: j.signal,
		TimedOut: j.timedOut, Note: j.note, Stdout: j.stdout.contents(), Stderr: j.stderr.contents(),
	}
}

// arrived fills in the job from the outcome that its worker sent.
func (j *job) arrived(o jobOutcome, dir *spillDir) {
	j.host, j.start, j.runtime = o.Host, o.Start, o.Runtime
	j.exit, j.signal, j.timedOut, j.note = o.Exit, o.Signal, o.TimedOut, o.Note
	j.stdout, j.stderr = newSpillBuffer(dir), newSpillBuffer(dir)
	j.stdout.Write(o.Stdout)
	j.stderr.Write(o.Stderr)
}
