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
	tag  string // "" without --tag
	try  int    // attempts made

	start    time.Time
	runtime  time.Duration
	exit     int // -1 when it timed out
	signal   int
	note     string // a message for childproc's stderr (a limit met, a failed start)
	timedOut bool
	stopped  bool // ended by a stop of every job (--halt now, a signal): not logged, not counted

	stdout, stderr *spillBuffer // grouped output; nil when not grouped
	lines          []*jobLineWriter

	mu       sync.Mutex
	child    *childproc.Child
	stopping bool
	lastSig  os.Signal // the last signal a stop sent
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
