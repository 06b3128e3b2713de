package main

import (
	"errors"
	"fmt"

	"github.com/childproc/childproc"
)

// outOfFiles reports whether a spawn failed for want of file descriptors:
// childproc's own, not the job's fault. That is EMFILE or ENFILE, and
// EBADF too: the forked child moves the descriptors it is given above the
// highest one the parent has open, and a dup3 past RLIMIT_NOFILE fails
// with EBADF (childproc passes no bad descriptor to a job).
func outOfFiles(err error) bool {
	var ce *childproc.Error
	if !errors.As(err, &ce) {
		return false
	}
	switch ce.Code {
	case "EMFILE", "ENFILE", "EBADF":
		return true
	}
	return false
}

// runAgainWithFewer takes back a job whose spawn found no file
// descriptor free: it runs again once a running job has ended, and from
// then on at most as many jobs run at once as are under way now, as GNU
// parallel limits itself to the jobs its file handles allow (jobs whose
// spawns fail in turn lower that further). It reports false when no
// other job is under way, so that fewer jobs cannot help: the job then
// fails.
func (r *jobRunner) runAgainWithFewer(j *job) bool {
	if r.running == 0 {
		return false
	}
	if r.running < r.limit {
		r.limit = r.running
		r.limitUntold = true
	}
	j.try--
	r.again = append(r.again, j)
	return true
}

// tellLimit warns, once the jobs have been limited for want of file
// descriptors, how many run at once.
func (r *jobRunner) tellLimit() {
	if !r.limitUntold {
		return
	}
	r.limitUntold = false
	fmt.Fprintf(r.errOut, "childproc parallel: Warning: Only enough file handles to run %d jobs in parallel.\n", r.limit)
	fmt.Fprintf(r.errOut, "childproc parallel: Warning: Try increasing 'ulimit -n' (try: ulimit -n `ulimit -Hn`).\n")
}

// nextJob returns the next job to begin: one to run again first, else a
// new one from the input; nil when there is none now (inputDone tells
// whether the input has ended).
func (r *jobRunner) nextJob(in inputIter, inputDone bool) (*job, error) {
	if len(r.again) > 0 {
		r.tellLimit()
		j := r.again[0]
		r.again = r.again[1:]
		return j, nil
	}
	if inputDone {
		return nil, nil
	}
	args, err := in.next()
	if err != nil {
		return nil, err
	}
	r.seq++
	return r.newJob(r.seq, args), nil
}
