package main

import (
	"context"
	"io"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/childproc/childproc"
)

// An executor runs the attempts of jobs: each a childproc child of the
// job's command, whose whole tree the termseq stops on a timeout or a
// stop of every job. childproc parallel has one for all its jobs;
// childproc worker one for each job it is sent.
type executor struct {
	shell   string
	env     []string
	limits  *childproc.Limits // nil for none
	termseq []termStep
	output  outputMode
	spill   *spillDir // where grouped output spills

	stdin                any         // every job's stdin
	rawStdout, rawStderr io.Writer   // what ungrouped and line-buffered jobs write to
	bigOutput            atomic.Bool // a job's stdout spilled: later jobs write theirs to a file
	lineMu               sync.Mutex

	mu       sync.Mutex
	jobs     map[*job]struct{} // running jobs with a child
	stopping bool              // every job is being stopped
}

// newExecutor returns an executor of jobs with o's shell, limits,
// termseq and output, and the environment of this process.
func newExecutor(o *parallelOptions, stdout, stderr io.Writer) *executor {
	x := &executor{
		shell:     o.shell,
		env:       os.Environ(),
		termseq:   o.termseq,
		output:    o.output,
		spill:     &spillDir{path: o.tmpdir},
		stdin:     childproc.Ignore,
		rawStdout: stdout,
		rawStderr: stderr,
		jobs:      map[*job]struct{}{},
	}
	if o.limits != (childproc.Limits{}) {
		x.limits = &o.limits
	}
	return x
}

// run runs one attempt of the job, stopped after timeout (0 for none),
// and fills in how it ended.
func (x *executor) run(j *job, timeout time.Duration) {
	j.try++
	j.outOfFiles = false
	j.mu.Lock()
	j.child, j.stopping, j.timedOut, j.lastSig = nil, false, false, nil
	j.mu.Unlock()
	opts := x.jobOptions(j)
	name, args := x.shell, []string{"-c", j.cmd}
	if j.path != "" {
		name, args = j.path, j.argv[1:]
		opts.Argv0 = j.argv[0]
	}
	j.start = time.Now()
	c, err := childproc.Spawn(context.Background(), name, args, opts)
	if err != nil {
		j.runtime = time.Since(j.start)
		j.spawnFailed(err)
		j.outOfFiles = outOfFiles(err)
		return
	}
	if !x.track(j, c) {
		x.stopJob(j)
	}
	var timer *time.Timer
	if timeout > 0 {
		timer = time.AfterFunc(timeout, func() { x.timeOut(j) })
	}
	<-c.Exited()
	exited := time.Now()
	j.runtime = exited.Sub(j.start)
	err = c.Wait()
	j.leftover = nil
	if time.Since(exited) >= jobWaitDelay {
		j.leftover = c // jobWaitDelay cut its output: something holds it
	}
	if timer != nil {
		timer.Stop()
	}
	x.untrack(j)
	j.awaitStop()
	var full error
	if j.stdout != nil {
		full = j.stdout.takeWritten()
	}
	for _, l := range j.lines {
		l.Close()
	}
	j.ended(c, err)
	if full != nil {
		j.addNote("Warning: its stdout, which it wrote to a temporary file itself, may be incomplete: " + full.Error())
	}
}

// jobOptions are the childproc options of one attempt of a job.
func (x *executor) jobOptions(j *job) *childproc.Options {
	opts := &childproc.Options{
		Env:       append(x.env[:len(x.env):len(x.env)], "PARALLEL_SEQ="+strconv.Itoa(j.seq), "PARALLEL_JOBSLOT="+strconv.Itoa(j.slot)),
		KillTree:  true,
		Limits:    x.limits,
		WaitDelay: jobWaitDelay,
	}
	switch x.output {
	case outputUngroup:
		opts.Stdio = []any{x.stdin, x.rawStdout, x.rawStderr}
	case outputLineBuffer:
		out := &jobLineWriter{mu: &x.lineMu, w: x.rawStdout, tag: j.tag}
		errw := &jobLineWriter{mu: &x.lineMu, w: x.rawStderr, tag: j.tag}
		j.lines = []*jobLineWriter{out, errw}
		opts.Stdio = []any{x.stdin, out, errw}
	default:
		j.closeOutput() // a retry starts afresh
		j.stdout, j.stderr = x.stdoutBuffer(), newSpillBuffer(x.spill)
		opts.Stdio = []any{x.stdin, j.stdout, j.stderr}
		if j.stdout.direct {
			opts.Stdio[1] = j.stdout.file
		}
	}
	return opts
}

// stopAll stops every running job, and those that start later.
func (x *executor) stopAll() {
	x.mu.Lock()
	x.stopping = true
	jobs := make([]*job, 0, len(x.jobs))
	for j := range x.jobs {
		jobs = append(jobs, j)
	}
	x.mu.Unlock()
	for _, j := range jobs {
		go x.stopJob(j)
	}
}

// track records a job's child so that a stop reaches it; false when
// every job is being stopped already.
func (x *executor) track(j *job, c *childproc.Child) bool {
	j.mu.Lock()
	j.child = c
	j.mu.Unlock()
	x.mu.Lock()
	defer x.mu.Unlock()
	x.jobs[j] = struct{}{}
	return !x.stopping
}

func (x *executor) untrack(j *job) {
	x.mu.Lock()
	delete(x.jobs, j)
	x.mu.Unlock()
}

// terminate stops the job's whole tree, its child c, with the termseq,
// and records the last signal sent.
func (x *executor) terminate(j *job, c *childproc.Child) {
	x.stopTree(c, func(sig os.Signal) {
		j.mu.Lock()
		j.lastSig = sig
		j.mu.Unlock()
	})
}

// stopTree stops the whole tree of c with the termseq: each signal (sent
// is told of it), then its wait, until nothing of the tree is left.
func (x *executor) stopTree(c *childproc.Child, sent func(os.Signal)) {
	for _, st := range x.termseq {
		if err := c.KillTree(st.sig); err != nil && treeGone(c) {
			return
		}
		sent(st.sig)
		deadline := time.NewTimer(st.wait)
		select {
		case <-c.Done():
			for !treeGone(c) && !expired(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
		case <-deadline.C:
		}
		deadline.Stop()
		if treeGone(c) {
			return
		}
	}
}

// treeGone reports whether no process of the child's tree is left.
func treeGone(c *childproc.Child) bool {
	return c.KillTree(syscall.Signal(0)) != nil
}

func expired(t *time.Timer) bool {
	select {
	case <-t.C:
		return true
	default:
		return false
	}
}

// timeOut stops a job that ran past its timeout.
func (x *executor) timeOut(j *job) {
	if c := j.beginStop(true); c != nil {
		defer j.stops.Done()
		x.terminate(j, c)
	}
}

// stopJob stops a job for a stop of every job.
func (x *executor) stopJob(j *job) {
	if c := j.beginStop(false); c != nil {
		defer j.stops.Done()
		x.terminate(j, c)
	}
}
