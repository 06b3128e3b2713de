package pool

import (
	"fmt"
	"log/slog"
	"runtime"
	"time"

	"github.com/childproc/childproc"
)

// Options configures a Pool. The zero value, like a nil *Options, is a
// pool of runtime.NumCPU() workers running one task each, with a queue
// of DefaultMaxQueue tasks, no timeouts, no recycling and no retries.
type Options struct {
	// Size is the number of worker processes; 0 means runtime.NumCPU().
	Size int
	// Concurrency is how many tasks a worker runs at once; 0 means 1.
	// A Go worker runs each in a goroutine of its own, a Node worker
	// awaits them together, a Python worker runs each in a thread.
	Concurrency int
	// MaxQueue bounds the tasks waiting for a worker; 0 means
	// DefaultMaxQueue. Do blocks while it is full, until its context
	// ends.
	MaxQueue int
	// FailWhenFull makes Do return ErrQueueFull at once, instead of
	// waiting, when MaxQueue tasks are waiting.
	FailWhenFull bool
	// TaskTimeout bounds a task's run, from the moment it is sent to a
	// worker (time spent queued does not count). A task running longer
	// fails with ErrTimeout, and its worker is stopped (Child.KillSignal,
	// then SIGKILL after Child.ForceKillAfter) and replaced. 0 means none.
	TaskTimeout time.Duration
	// CancelGrace is how long a worker may take to answer for a task
	// whose caller gave up (its context ended) before the worker is
	// stopped and replaced; 0 means DefaultCancelGrace.
	CancelGrace time.Duration
	// MaxTasks replaces a worker once it has been given this many tasks;
	// 0 means never.
	MaxTasks int
	// MaxAge replaces a worker older than this, between tasks; 0 means
	// never.
	MaxAge time.Duration
	// IdleTimeout stops workers that have had no task for this long,
	// down to MinSize workers; Do starts them again when it finds no
	// free worker. 0 means never.
	IdleTimeout time.Duration
	// MinSize is the number of workers IdleTimeout keeps.
	MinSize int
	// MaxMemory, in bytes of resident memory (RSS), replaces a worker
	// that uses more, once its running tasks are done: it is never
	// stopped mid-task for memory. The pool reads a worker's RSS after
	// each task and every second while it runs one (Linux; elsewhere
	// MaxMemory is ignored). 0 means none. Child.Limits caps a worker
	// hard instead.
	MaxMemory int64
	// Retries is how many times a task whose worker died under it (a
	// *WorkerError) is run again on another worker; 0 means none. A
	// task's own error (*TaskError) and ErrTimeout are never retried. A
	// task whose message could not be sent to its worker (gone already)
	// never ran there: it runs elsewhere whatever Retries says.
	Retries int
	// StartTimeout bounds a worker's start, from the call of
	// Worker.Start until the worker says it is ready; 0 means
	// DefaultStartTimeout.
	StartTimeout time.Duration
	// Child says how each worker process is started: Env, Cwd, Limits,
	// KillSignal, ForceKillAfter, ... nil means childproc's defaults.
	// The pool sets Stdio[2] to keep the tail of the worker's stderr
	// (copied on to the Stdio[2] given here, or to the parent's stderr)
	// and Stdio[3] to the channel; stdin is the null device unless
	// Stdio[0] says otherwise. Unless the environment (Env, or the
	// parent's) sets GOMAXPROCS, a worker gets GOMAXPROCS =
	// max(1, runtime.NumCPU()/Size): the pool's Go workers then share
	// the machine's cores instead of each contending for all of them.
	// Child.Serialization must be "" or "json" (the protocol's), and a
	// request whose task message is longer than Child.Channel's
	// MaxMessageSize (ipc's default when unset, which a Go worker reads
	// with) fails with an error wrapping ipc.ErrTooLarge before anything
	// is sent.
	Child *childproc.Options
	// Logger receives the pool's events: workers started, exited,
	// replaced and recycled, with the reason. nil is silent.
	Logger *slog.Logger
}

// Defaults of the zero Options.
const (
	DefaultMaxQueue     = 1024
	DefaultCancelGrace  = time.Second
	DefaultStartTimeout = 30 * time.Second
)

// settings returns o with its defaults filled in, or an error wrapping
// ErrBadOptions.
func (o *Options) settings() (Options, error) {
	var s Options
	if o != nil {
		s = *o
	}
	if err := s.check(); err != nil {
		return s, err
	}
	if s.Size <= 0 {
		s.Size = runtime.NumCPU()
	}
	if s.Concurrency <= 0 {
		s.Concurrency = 1
	}
	if s.MaxQueue <= 0 {
		s.MaxQueue = DefaultMaxQueue
	}
	if s.CancelGrace <= 0 {
		s.CancelGrace = DefaultCancelGrace
	}
	if s.StartTimeout <= 0 {
		s.StartTimeout = DefaultStartTimeout
	}
	s.MinSize = min(max(s.MinSize, 0), s.Size)
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	return s, nil
}

// check refuses negative counts and durations.
func (o *Options) check() error {
	ints := []struct {
		name string
		v    int64
	}{
		{"Size", int64(o.Size)}, {"Concurrency", int64(o.Concurrency)},
		{"MaxQueue", int64(o.MaxQueue)}, {"MaxTasks", int64(o.MaxTasks)},
		{"MinSize", int64(o.MinSize)}, {"Retries", int64(o.Retries)},
		{"MaxMemory", o.MaxMemory},
		{"TaskTimeout", int64(o.TaskTimeout)}, {"CancelGrace", int64(o.CancelGrace)},
		{"MaxAge", int64(o.MaxAge)}, {"IdleTimeout", int64(o.IdleTimeout)},
		{"StartTimeout", int64(o.StartTimeout)},
	}
	for _, f := range ints {
		if f.v < 0 {
			return fmt.Errorf("%w: %s is negative (%d)", ErrBadOptions, f.name, f.v)
		}
	}
	if c := o.Child; c != nil && c.Serialization != "" && c.Serialization != "json" {
		return fmt.Errorf("%w: Child.Serialization %q: the pool protocol is JSON", ErrBadOptions, c.Serialization)
	}
	if o.Size > 0 && o.MinSize > o.Size {
		return fmt.Errorf("%w: MinSize %d is larger than Size %d", ErrBadOptions, o.MinSize, o.Size)
	}
	return nil
}
