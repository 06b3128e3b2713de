package cluster

import (
	"errors"
	"fmt"
)

var (
	// ErrBadOptions is wrapped by the error of New, Serve or
	// StartServer for options they cannot use.
	ErrBadOptions = errors.New("cluster: bad options")
	// ErrBadName is wrapped by the error for a pool or batch name that
	// is not 1 to 64 letters, digits, '-' or '_'.
	ErrBadName = errors.New("cluster: bad name")
	// ErrDeadLetter is wrapped by a DeadLetterError.
	ErrDeadLetter = errors.New("cluster: task dead-lettered")
	// ErrBadTask is wrapped by the result of a task that a worker
	// could not decode (a request of another type than its handler's).
	ErrBadTask = errors.New("cluster: bad task")
	// ErrTooLarge is wrapped by the error of a request, and by the
	// result of a response, longer than the server's maximum payload
	// (less 1 KiB for the headers): the task was not submitted, or its
	// response not sent.
	ErrTooLarge = errors.New("cluster: message too large for the server")
	// ErrNoServer is returned by ConnectLocal when the directory holds
	// no running embedded server's address and token.
	ErrNoServer = errors.New("cluster: no embedded server")
)

// DeadLetterError is the result of a task whose deliveries failed
// Options.MaxDeliver times for their workers' sake: the local worker
// process died or timed out under it, or the worker vanished. The task
// was moved to the dead-letter subject childproc.N.dead.B.I.
type DeadLetterError struct {
	// Task is the task's id, "batch.index".
	Task string
	// Deliveries is how many times the task was delivered.
	Deliveries int
	// Err is the last recorded failure: a *pool.WorkerError (whose Err
	// holds the exit as text), an error wrapping pool.ErrTimeout, or
	// nil when no worker lived to record one (every worker that took
	// the task vanished).
	Err error
}

func (e *DeadLetterError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("cluster: task %s dead-lettered after %d deliveries (its workers vanished)", e.Task, e.Deliveries)
	}
	return fmt.Sprintf("cluster: task %s dead-lettered after %d deliveries: %v", e.Task, e.Deliveries, e.Err)
}

// Unwrap returns ErrDeadLetter and the last failure.
func (e *DeadLetterError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrDeadLetter}
	}
	return []error{ErrDeadLetter, e.Err}
}
