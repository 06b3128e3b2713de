package cluster

import (
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Options configures a Pool (New) and a worker (Serve, ServeFunc). The
// zero value, like a nil *Options, holds the defaults below. The queue
// settings (AckWait, MaxAckPending, Storage, Replicas, ResultTTL) are
// those of whichever New or Serve first creates the pool's streams and
// consumer; later ones use what they find.
type Options struct {
	// AckWait is how long a delivered task may go without a sign of
	// life from its worker (an ack, or the in-progress signal sent
	// every AckWait/3 while it runs) before it is delivered again; 0
	// means DefaultAckWait.
	AckWait time.Duration
	// MaxAckPending bounds the tasks delivered and not yet acked, on
	// all the workers of the pool together; 0 means
	// DefaultMaxAckPending.
	MaxAckPending int
	// Storage is where the server keeps the streams: file (the zero
	// value) or memory.
	Storage jetstream.StorageType
	// Replicas is the number of copies of each stream in a NATS
	// cluster; 0 means 1.
	Replicas int
	// ResultTTL is how long results (and dead letters) are kept; 0
	// means DefaultResultTTL.
	ResultTTL time.Duration

	// MaxDeliver is how many deliveries of a task may fail for its
	// worker's sake (the local worker process died or timed out, or
	// the worker itself vanished) before the task is a dead letter; 0
	// means DefaultMaxDeliver. It travels with each task, so the
	// submitter's value holds.
	MaxDeliver int
	// TaskRetries is how many times a task whose handler failed (a
	// *pool.TaskError) runs again; 0 means none: the error is the
	// task's result. It travels with each task.
	TaskRetries int
	// MaxPending bounds the tasks of this Pool submitted and not yet
	// answered: Do waits for room while as many are pending (its
	// context bounds the wait), and Map and MapBatch keep at most as
	// many in flight. 0 means DefaultMaxPending.
	MaxPending int

	// Slots is how many tasks Serve runs at once; 0 means the local
	// pool's Workers when Serve starts (give Size × Concurrency for a
	// pool whose workers run several tasks each), and 1 for ServeFunc.
	Slots int

	// Logger receives the events of a Pool or a worker: reconnections,
	// redeliveries, terminated messages, dead letters. nil is silent.
	Logger *slog.Logger
}

// Defaults of the zero Options.
const (
	DefaultAckWait       = 5 * time.Second
	DefaultMaxAckPending = 10000
	DefaultResultTTL     = 24 * time.Hour
	DefaultMaxDeliver    = 5
	DefaultMaxPending    = 4096
)

// settings returns o with its defaults filled in, or an error wrapping
// ErrBadOptions.
func (o *Options) settings() (Options, error) {
	var s Options
	if o != nil {
		s = *o
	}
	if s.AckWait < 0 || s.MaxAckPending < 0 || s.Replicas < 0 || s.ResultTTL < 0 ||
		s.MaxDeliver < 0 || s.TaskRetries < 0 || s.MaxPending < 0 || s.Slots < 0 {
		return s, fmt.Errorf("%w: a negative count or duration", ErrBadOptions)
	}
	if s.AckWait > 0 && s.AckWait < 100*time.Millisecond {
		return s, fmt.Errorf("%w: AckWait %v is below 100ms", ErrBadOptions, s.AckWait)
	}
	setDefault(&s.AckWait, DefaultAckWait)
	setDefault(&s.MaxAckPending, DefaultMaxAckPending)
	setDefault(&s.Replicas, 1)
	setDefault(&s.ResultTTL, DefaultResultTTL)
	setDefault(&s.MaxDeliver, DefaultMaxDeliver)
	setDefault(&s.MaxPending, DefaultMaxPending)
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	return s, nil
}

func setDefault[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// validName matches pool and batch names: one subject token, usable in
// a stream's name.
var validName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

func checkName(kind, name string) error {
	if !validName.MatchString(name) {
		return fmt.Errorf("%w: %s %q (want 1 to 64 letters, digits, '-' or '_')", ErrBadName, kind, name)
	}
	return nil
}
