package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"slices"
	"sync"
	"time"

	"github.com/childproc/childproc"
)

// A jobRunner runs the jobs of one childproc parallel, at most o.jobs at a
// time, and accounts for them as they end.
type jobRunner struct {
	o       *parallelOptions
	tmpl    *template
	tagTmpl *template     // --tagstring; nil for --tag
	direct  *directRunner // nil: every job through the shell
	x       *executor
	out     *printer
	log     *joblog
	logRows map[int]logRow // what the joblog of a resumed run holds
	prog    *progressLine
	errOut  io.Writer

	results chan *job
	slots   []int  // free slot numbers
	limit   int    // the most jobs to run at once: -j, or fewer when file descriptors ran out
	again   []*job // jobs to run again first, whose spawn found no file descriptor free
	// limitUntold: limit was lowered for want of file descriptors, and
	// the warning is due.
	limitUntold bool
	running     int
	seq         int // jobs taken from the input

	leftovers []*childproc.Child // children of ended jobs whose trees held their output

	total          int // jobs in all; 0 while the input has not ended
	done, failures int
	succeeded      int
	runtimes       []time.Duration
	mu             sync.Mutex    // guards median
	median         time.Duration // of runtimes, for a --timeout in percent
	halted         haltWhen
	haltStatus     int
	interrupted    os.Signal
	nextStart      time.Time

	// With --cluster: cancelRemote gives up the jobs pending in the
	// cluster, stopSubmitting stops submitting more; nil otherwise.
	cancelRemote, stopSubmitting context.CancelFunc
}

// newJobRunner prepares the run of o's jobs.
func newJobRunner(o *parallelOptions, stdout, stderr io.Writer) *jobRunner {
	r := &jobRunner{
		o:       o,
		tmpl:    newTemplate(o.command, o.quote),
		x:       newExecutor(o, stdout, stderr),
		out:     newPrinter(o, stdout, stderr),
		errOut:  stderr,
		results: make(chan *job, 64),
		halted:  haltNever,
	}
	if f, err := os.Open(os.DevNull); err == nil {
		r.x.stdin = f // spares each job an open and a close
	}
	if os.Getenv("CHILDPROC_PARALLEL_DIRECT") != "0" {
		r.direct = newDirectRunner()
	}
	if o.tag && o.tagString != "" {
		r.tagTmpl = newTemplate([]string{o.tagString}, false)
	}
	for s := min(o.jobs, 1<<16); s >= 1; s-- {
		r.slots = append(r.slots, s)
	}
	r.limit = len(r.slots)
	return r
}

// runAll runs every job of in and returns the exit status.
func (r *jobRunner) runAll(in inputIter) int {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, stopSignals...)
	defer signal.Stop(sigs)
	inputErr := false
	inputDone := false
	for {
		for (!inputDone || len(r.again) > 0) && r.mayStart() {
			if wait := time.Until(r.nextStart); wait > 0 {
				break
			}
			j, err := r.nextJob(in, inputDone)
			if err != nil {
				inputDone = true
				r.total = r.seq
				if err != io.EOF {
					fmt.Fprintf(r.errOut, "childproc parallel: %v\n", err)
					inputErr = true
				}
				continue
			}
			r.begin(j)
		}
		if r.running == 0 && (inputDone && len(r.again) == 0 || !r.mayStartMore()) {
			break
		}
		r.wait(sigs)
	}
	r.out.flush()
	r.stopLeftovers()
	r.prog.finish()
	return r.exitStatus(inputErr)
}

// wait waits for a job to end, a signal, or the next --delay start.
func (r *jobRunner) wait(sigs <-chan os.Signal) {
	var tick <-chan time.Time
	if wait := time.Until(r.nextStart); wait > 0 && r.mayStart() {
		t := time.NewTimer(wait)
		defer t.Stop()
		tick = t.C
	}
	select {
	case j := <-r.results:
		r.finish(j)
	case sig := <-sigs:
		r.interrupt(sig)
	case <-tick:
	}
}

// mayStart reports whether a job may start now.
func (r *jobRunner) mayStart() bool {
	return r.mayStartMore() && len(r.slots) > 0 && r.running < r.limit
}

// mayStartMore reports whether jobs may still be started at all.
func (r *jobRunner) mayStartMore() bool {
	return r.halted == haltNever && r.interrupted == nil
}

// newJob composes the job numbered seq.
func (r *jobRunner) newJob(seq int, args []string) *job {
	return &job{seq: seq, args: args}
}

// begin starts a job in a free slot, or passes over it when the joblog
// says it need not run again.
func (r *jobRunner) begin(j *job) {
	if r.skipped(j) {
		r.out.done(j.seq, nil)
		return
	}
	j.slot = r.slots[len(r.slots)-1]
	r.slots = r.slots[:len(r.slots)-1]
	r.compose(j)
	r.running++
	if r.o.delay > 0 {
		r.nextStart = time.Now().Add(r.o.delay)
	}
	r.prog.update(r)
	go r.attempt(j)
}

// compose fills in the job's command, how to run it and its tag.
func (r *jobRunner) compose(j *job) {
	j.cmd = r.tmpl.compose(j.args, j.seq, j.slot)
	if r.direct != nil {
		j.path, j.argv = r.direct.argv(j.cmd)
	}
	if r.o.tag {
		j.tag = r.tagTmpl.tagFor(j.args, j.seq, j.slot) + "\t"
	}
}

// attempt runs the job once and hands it back to the runner.
func (r *jobRunner) attempt(j *job) {
	r.x.run(j, r.timeoutFor())
	r.results <- j
}

// finish takes a local job that ended: it runs again if attempts are
// left, else it gives back its slot and is accounted for.
func (r *jobRunner) finish(j *job) {
	r.noteSpill(j)
	if j.leftover != nil {
		r.leftovers = append(r.leftovers, j.leftover)
	}
	if j.again(r.o.retries) && r.mayStartMore() {
		go r.attempt(j)
		return
	}
	r.running--
	r.slots = append(r.slots, j.slot)
	if j.outOfFiles && r.runAgainWithFewer(j) {
		return
	}
	r.account(j)
}

// account reports a job that has ended for good, wherever it ran: its
// note, output, joblog row, progress and --halt. A job stopped by a stop
// of every job is neither logged nor counted.
func (r *jobRunner) account(j *job) {
	if j.note != "" {
		fmt.Fprintf(r.errOut, "childproc parallel: %s\n", j.note)
	}
	fmt.Fprint(r.errOut, r.x.spill.warning())
	if j.stopped {
		j.closeOutput()
		r.out.done(j.seq, nil)
		return
	}
	r.count(j)
	if r.log != nil {
		if err := r.log.record(j); err != nil {
			fmt.Fprintf(r.errOut, "childproc parallel: joblog: %v\n", err)
		}
	}
	if j.timedOut {
		fmt.Fprintf(r.errOut, "childproc parallel: Warning: This job was killed because it timed out:\nchildproc parallel: Warning: %s\n", j.cmd)
	}
	r.out.done(j.seq, j)
	r.prog.update(r)
	r.checkHalt(j)
}

// count adds a finished job to the tallies.
func (r *jobRunner) count(j *job) {
	r.done++
	if j.failed() {
		r.failures++
	} else {
		r.succeeded++
	}
	if r.o.timeout.pct > 0 {
		r.runtimes = append(r.runtimes, j.runtime)
		r.setMedian()
	}
}

// setMedian keeps the median run time of the finished jobs, for a
// --timeout in percent.
func (r *jobRunner) setMedian() {
	if len(r.runtimes) < 3 {
		return // too few to say what is usual
	}
	s := slices.Clone(r.runtimes)
	slices.Sort(s)
	r.mu.Lock()
	r.median = s[len(s)/2]
	r.mu.Unlock()
}

// timeoutFor is the --timeout of a job starting now; 0 for none.
func (r *jobRunner) timeoutFor() time.Duration {
	if r.o.timeout.pct == 0 {
		return r.o.timeout.d
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return time.Duration(float64(r.median) * r.o.timeout.pct / 100)
}

// skipped reports whether the joblog of a resumed run spares the job.
func (r *jobRunner) skipped(j *job) bool {
	row, ok := r.logRows[j.seq]
	switch r.o.resume {
	case resumeAll:
		return ok
	case resumeFailed:
		return ok && !row.failed
	}
	return false
}

// checkHalt applies --halt after a job has finished.
func (r *jobRunner) checkHalt(j *job) {
	h := r.o.halt
	if h.when == haltNever || r.halted != haltNever {
		return
	}
	var n int
	var what string
	switch h.on {
	case haltOnFail:
		if !j.failed() {
			return
		}
		n, what = r.failures, "failed"
	case haltOnSuccess:
		if j.failed() {
			return
		}
		n, what = r.succeeded, "succeeded"
	default:
		n, what = r.done, "finished"
	}
	met := h.count > 0 && n >= h.count || h.pct > 0 && r.total > 0 && float64(n)*100 >= h.pct*float64(r.total)
	if !met {
		return
	}
	r.halted = h.when
	r.haltStatus = r.haltExit(j)
	if r.stopSubmitting != nil {
		r.stopSubmitting()
	}
	fmt.Fprintf(r.errOut, "childproc parallel: This job %s:\n%s\n", what, j.cmd)
	if h.when == haltNow {
		r.stopAll()
	} else if r.running > 0 {
		fmt.Fprintf(r.errOut, "childproc parallel: Starting no more jobs. Waiting for %d jobs to finish.\n", r.running)
	}
}

// haltExit is the exit status of a run that --halt stopped, as GNU's:
// the job's own status for fail=1, the percentage of failed jobs for
// fail=X%, 0 for success, else the number of failed jobs.
func (r *jobRunner) haltExit(j *job) int {
	h := r.o.halt
	switch {
	case h.on == haltOnSuccess:
		return 0
	case h.on == haltOnFail && h.count == 1:
		return j.status()
	case h.on == haltOnFail && h.pct > 0:
		return int(math.Ceil(float64(r.failures) * 100 / float64(r.total)))
	}
	return -1 // the number of failed jobs, counted at the end
}

// interrupt stops every job on SIGINT, SIGTERM or SIGHUP.
func (r *jobRunner) interrupt(sig os.Signal) {
	if r.interrupted == nil {
		r.interrupted = sig
		fmt.Fprintf(r.errOut, "childproc parallel: %v: stopping %d jobs\n", sig, r.running)
	}
	r.x.stopAll()
}

// stopAll stops every job: those running here, and those pending in
// the cluster.
func (r *jobRunner) stopAll() {
	r.x.stopAll()
	if r.cancelRemote != nil {
		r.cancelRemote()
	}
}

// exitStatus is GNU parallel's: the number of failed jobs, at most 101;
// what --halt says; 255 for an error or a stop by a signal.
func (r *jobRunner) exitStatus(inputErr bool) int {
	switch {
	case inputErr, r.interrupted != nil, r.out.err != nil:
		return 255
	case r.halted != haltNever && r.haltStatus >= 0:
		return min(r.haltStatus, 255)
	}
	return min(r.failures, 101)
}
