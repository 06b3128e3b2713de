package main

import (
	"errors"
	"io/fs"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/childproc/childproc"
)

// jobWaitDelay is how long a job's output is waited for once its process
// has exited (the child's Options.WaitDelay): a background process that
// keeps the job's stdout or stderr open does not hold the job, whose end
// is its process's exit, as in GNU parallel. What that process writes
// later is lost, and it does not make the job fail.
const jobWaitDelay = 200 * time.Millisecond

// A job is one command run for one set of arguments.
type job struct {
	seq  int
	args []string
	cmd  string
	// path and argv run the command without a shell; path "" means
	// through the shell.
	path string
	argv []string
	slot int
	host string // the worker that ran it; "" for this machine
	tag  string // what starts each output line: the tag and a tab; "" without --tag
	try  int    // attempts made

	start    time.Time
	runtime  time.Duration
	exit     int // -1 when it timed out
	signal   int
	note     string // a message for childproc's stderr (a limit met, a failed start)
	timedOut bool
	// outOfFiles: the spawn found no file descriptor free; the job may
	// run again.
	outOfFiles bool
	stopped    bool // ended by a stop of every job (--halt now, a signal): not logged, not counted

	// leftover is the child of an attempt whose output was cut after
	// jobWaitDelay: a process of its tree still held it.
	leftover *childproc.Child

	stdout, stderr *spillBuffer // grouped output; nil when not grouped
	lines          []*jobLineWriter

	mu       sync.Mutex
	child    *childproc.Child // nil once the attempt has ended: no stop begins then
	stopping bool
	lastSig  os.Signal      // the last signal a stop sent
	stops    sync.WaitGroup // the stop of the attempt in progress, if any
}

func (j *job) failed() bool { return j.exit != 0 || j.signal != 0 }

// again reports whether a job that ended should run again, with tries
// attempts in all: it failed on its own (was not stopped) and has
// attempts left.
func (j *job) again(tries int) bool {
	return j.failed() && !j.stopped && j.try < tries
}

// received is the Receive column of the joblog: the bytes of stdout.
func (j *job) received() int64 {
	if j.stdout == nil {
		return 0
	}
	return j.stdout.Len()
}

// status is the job's exit status as a shell reports it: 128+signal
// when a signal ended it.
func (j *job) status() int {
	if j.signal != 0 {
		return 128 + j.signal
	}
	return j.exit
}

func (j *job) closeOutput() {
	if j.stdout != nil {
		j.stdout.Close()
		j.stderr.Close()
	}
}

// spawnFailed records a job whose command could not be started, with the
// status a shell gives such a command.
func (j *job) spawnFailed(err error) {
	j.exit, j.signal = 126, 0
	if errors.Is(err, fs.ErrNotExist) {
		j.exit = 127
	}
	j.note = "job " + strconv.Itoa(j.seq) + ": " + err.Error()
}

// addNote adds msg to the job's note.
func (j *job) addNote(msg string) {
	if j.note == "" {
		j.note = "job " + strconv.Itoa(j.seq) + ": " + msg
		return
	}
	j.note += "; " + msg
}

// ended records how the child ended.
func (j *job) ended(c *childproc.Child, err error) {
	j.exit, j.signal, j.note = 0, 0, ""
	if ps := c.ProcessState(); ps != nil {
		if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			j.signal = int(ws.Signal())
		} else {
			j.exit = ps.ExitCode()
		}
	}
	var ce *childproc.Error
	if errors.As(err, &ce) && ce.Limit != "" {
		j.note = "job " + strconv.Itoa(j.seq) + ": " + ce.Error()
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	j.stopped = j.stopping && !j.timedOut
	if j.timedOut {
		j.exit = -1
		if j.signal == 0 {
			j.signal = signalNumber(j.lastSig)
		}
	}
}

// signalNumber returns the number of sig, 0 for none.
func signalNumber(sig os.Signal) int {
	if s, ok := sig.(syscall.Signal); ok {
		return int(s)
	}
	return 0
}

// awaitStop waits for a stop of the attempt that has begun to finish
// its termseq, so that the job is not reported, nor childproc gone,
// while what is left of its tree (a process that ignores SIGTERM, one
// that left the job's session) still runs; and lets no stop begin after.
func (j *job) awaitStop() {
	j.mu.Lock()
	j.child = nil
	j.mu.Unlock()
	j.stops.Wait()
}

// beginStop marks the job as being stopped and returns its child; nil
// when it is stopped already or has no child (not started, or ended).
// The caller runs the stop and then calls j.stops.Done.
func (j *job) beginStop(timedOut bool) *childproc.Child {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.stopping || j.child == nil {
		return nil
	}
	j.stopping, j.timedOut = true, timedOut
	j.stops.Add(1)
	return j.child
}
