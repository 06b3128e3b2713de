package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/childproc/childproc/cluster"
)

// A jobPool is the cluster pool that runs the jobs of childproc
// parallel --cluster.
type jobPool = cluster.Pool[remoteJob, jobOutcome]

// runCluster runs every job of in on the workers of the cluster, and
// accounts for each as a local job is accounted for, as its result
// arrives: in the order of the input. It returns the exit status.
func (r *jobRunner) runCluster(in inputIter) int {
	nc, stopServer, err := r.o.cluster.submitterConn()
	if err != nil {
		return failParallel(r.errOut, err)
	}
	defer stopServer()
	defer nc.Close()
	p, err := cluster.New[remoteJob, jobOutcome](nc, r.o.cluster.queue, nil)
	if err != nil {
		return failParallel(r.errOut, err)
	}
	defer p.Close()
	if err := r.startBatch(context.Background(), p); err != nil {
		return failParallel(r.errOut, err)
	}
	return r.collect(p, in)
}

// collect submits the jobs of in to p and accounts for their results,
// until every job has one, --halt now, or a signal; then it removes
// --batch, whose jobs have all been accounted for. It returns the exit
// status.
func (r *jobRunner) collect(p *jobPool, in inputIter) int {
	// Collecting ends on --halt now and on a signal; submitting also on
	// --halt soon. When ctx ends, Map submits no more, removes the jobs
	// still queued and only then stops those running: no worker slot
	// that a stopped job frees takes a queued one.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	submitting, stopSubmitting := context.WithCancel(ctx)
	defer stopSubmitting()
	r.cancelRemote, r.stopSubmitting = cancel, stopSubmitting
	got := r.catchSignals(ctx, cancel)
	sent := &sentJobs{}
	for out, err := range r.remoteResults(ctx, p, r.clusterJobs(submitting, in, sent)) {
		j := sent.pop()
		r.running = sent.len()
		r.arrived(j, out, err)
	}
	total, inErr := sent.ended()
	r.total = total
	if inErr != nil {
		fmt.Fprintf(r.errOut, "childproc parallel: %v\n", inErr)
	}
	select {
	case r.interrupted = <-got:
	default:
	}
	r.out.flush()
	r.prog.finish()
	if r.o.batch != "" && ctx.Err() == nil && inErr == nil && r.halted == haltNever {
		if err := p.DeleteBatch(context.Background(), r.o.batch); err != nil {
			fmt.Fprintf(r.errOut, "childproc parallel: removing batch %s: %v\n", r.o.batch, err)
		}
	}
	return r.exitStatus(inErr != nil)
}

// remoteResults submits the jobs and yields their results in order: in the
// durable batch of --batch, or in the pool's own.
func (r *jobRunner) remoteResults(ctx context.Context, p *jobPool, jobs iter.Seq[remoteJob]) iter.Seq2[jobOutcome, error] {
	if r.o.batch == "" {
		return p.Map(ctx, jobs)
	}
	return p.MapBatch(ctx, r.o.batch, jobs)
}

// startBatch starts --batch afresh unless --resume continues it: a run
// without --resume runs every job (as it truncates the joblog), and
// --resume-failed runs the failed ones again, whose results the batch
// holds.
func (r *jobRunner) startBatch(ctx context.Context, p *jobPool) error {
	switch {
	case r.o.batch == "":
		return nil
	case r.o.resume == resumeAll:
		if _, err := p.Batch(ctx, r.o.batch); err != nil {
			return fmt.Errorf("batch %s: %w", r.o.batch, err)
		}
	default:
		if err := p.DeleteBatch(ctx, r.o.batch); err != nil {
			return fmt.Errorf("starting batch %s afresh: %w", r.o.batch, err)
		}
	}
	return nil
}

// clusterJobs yields the jobs of in as they travel, until ctx ends. A
// job that the joblog of a resumed run spares travels as a no-op, so
// that every job keeps its index in the batch.
func (r *jobRunner) clusterJobs(ctx context.Context, in inputIter, sent *sentJobs) iter.Seq[remoteJob] {
	return func(yield func(remoteJob) bool) {
		for ctx.Err() == nil {
			args, err := in.next()
			if err != nil {
				if err != io.EOF {
					sent.fail(err)
				}
				return
			}
			seq := sent.count + 1
			j := r.newJob(seq, args)
			j.slot = r.o.nominalSlot(seq)
			rj := remoteJob{Seq: seq, Skip: true}
			if !r.skipped(j) {
				r.compose(j)
				rj = r.remote(j)
			}
			sent.push(j)
			if !yield(rj) {
				return
			}
			if r.o.delay > 0 {
				time.Sleep(r.o.delay)
			}
		}
	}
}

// arrived accounts for a job whose result came: its outcome, or the
// error that stands for one. A job given up by a stop of every job is
// stopped; one that the joblog spares was accounted for before.
func (r *jobRunner) arrived(j *job, out jobOutcome, err error) {
	switch {
	case r.skipped(j):
		r.out.done(j.seq, nil)
		return
	case err == nil:
		j.arrived(out, r.x.spill)
	case errors.Is(err, context.Canceled):
		j.stopped = true
	default:
		j.start, j.exit, j.signal = time.Now(), -1, 0
		j.note = "job " + strconv.Itoa(j.seq) + ": " + remoteFailure(err)
	}
	r.account(j)
}

// remoteFailure words the error that a job's result is: an output too
// large for the server's messages, or the cluster's words (a dead
// letter: its workers kept dying under it).
func remoteFailure(err error) string {
	if errors.Is(err, cluster.ErrTooLarge) {
		return "its output is more than a result can carry through this cluster (" + err.Error() + ")"
	}
	return err.Error()
}

// catchSignals makes SIGINT, SIGTERM and SIGHUP stop the run until
// ctx ends: the returned channel then holds the signal, and stop is
// called.
func (r *jobRunner) catchSignals(ctx context.Context, stop context.CancelFunc) <-chan os.Signal {
	sigs := make(chan os.Signal, 1)
	got := make(chan os.Signal, 1)
	signal.Notify(sigs, stopSignals...)
	go func() {
		defer signal.Stop(sigs)
		select {
		case sig := <-sigs:
			fmt.Fprintf(r.errOut, "childproc parallel: %v: stopping the jobs\n", sig)
			got <- sig
			stop()
		case <-ctx.Done():
		}
	}()
	return got
}

// sentJobs are the jobs submitted and not yet accounted for, in input
// order, which is the order of their results. The submitting and the
// collecting side may be different goroutines.
type sentJobs struct {
	mu    sync.Mutex
	jobs  []*job
	count int   // jobs taken from the input
	err   error // the input's error, read once submitting has ended
}

func (s *sentJobs) push(j *job) {
	s.mu.Lock()
	s.jobs = append(s.jobs, j)
	s.count++
	s.mu.Unlock()
}

func (s *sentJobs) fail(err error) {
	s.mu.Lock()
	s.err = err
	s.mu.Unlock()
}

func (s *sentJobs) pop() *job {
	s.mu.Lock()
	defer s.mu.Unlock()
	j := s.jobs[0]
	s.jobs = s.jobs[1:]
	return j
}

// ended returns the number of jobs and the input's error, once
// submitting has ended.
func (s *sentJobs) ended() (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count, s.err
}

func (s *sentJobs) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.jobs)
}

// submitterConn connects to the cluster of --cluster. For local, it
// joins this user's embedded server, starting one in this process when
// none runs; stop then stops it.
func (c *clusterOptions) submitterConn() (nc *nats.Conn, stop func(), err error) {
	nc, err = c.connect()
	if err == nil || c.url != localCluster || !noServerYet(err) {
		return nc, func() {}, err
	}
	srv, err := cluster.StartServer(nil)
	if err != nil {
		return nil, nil, fmt.Errorf("starting the embedded server: %w", err)
	}
	if nc, err = srv.Connect(); err != nil {
		srv.Close()
		return nil, nil, fmt.Errorf("joining the embedded server: %w", err)
	}
	return nc, func() { srv.Close() }, nil
}
