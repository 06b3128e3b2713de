package pool

import (
	"errors"
	"fmt"
)

var (
	// ErrClosed is returned for a task given to a pool that is closed or
	// shutting down, and for a task that Close found queued or running.
	ErrClosed = errors.New("pool: closed")
	// ErrQueueFull is returned by Do when Options.FailWhenFull is set and
	// MaxQueue tasks are already waiting.
	ErrQueueFull = errors.New("pool: queue full")
	// ErrTimeout is returned for a task that ran longer than
	// Options.TaskTimeout; its worker was stopped and replaced.
	ErrTimeout = errors.New("pool: task timed out")
	// ErrCrashLoop is returned for tasks while the pool's workers keep
	// failing to start: no worker is ready, and the last starts failed.
	// The error also wraps the last start's error.
	ErrCrashLoop = errors.New("pool: workers keep failing to start")
	// ErrProtocol is wrapped by the Err of a WorkerError for a worker
	// that broke the pool protocol (a result for a task it was never
	// given, a task answered twice, a malformed pool message).
	ErrProtocol = errors.New("pool: worker broke the protocol")
	// ErrBadOptions is wrapped by New's error for Options it cannot use
	// (a negative count or duration, MinSize above Size).
	ErrBadOptions = errors.New("pool: bad options")
)

// TaskError is a task's own failure: the worker's handler returned an
// error (Go), threw (Node) or raised (Python). The worker lives on.
type TaskError struct {
	// Message is the error's message.
	Message string
	// Name is the error's class or type where the worker's language
	// has one: "TypeError" (Node), "ValueError" (Python), the %T of
	// the returned error (Go, "*fs.PathError"), or "panic" for a Go
	// handler that panicked.
	Name string
	// Stack is the stack trace the worker reported, if any.
	Stack string
}

func (e *TaskError) Error() string {
	if e.Name == "" {
		return e.Message
	}
	return e.Name + ": " + e.Message
}

// WorkerError is the failure of a task whose worker process died, or
// broke the protocol, while it ran the task. The pool has replaced the
// worker. It unwraps to Err.
type WorkerError struct {
	// Pid is the worker's process id.
	Pid int
	// Err is why the worker ended: the *childproc.Error of its exit
	// (ExitCode, Signal, ...), or an error wrapping ErrProtocol.
	Err error
	// Stderr is the last bytes the worker wrote to its stderr (at most
	// 4 KiB).
	Stderr []byte
}

func (e *WorkerError) Error() string {
	return fmt.Sprintf("pool: worker %d failed: %v", e.Pid, e.Err)
}

func (e *WorkerError) Unwrap() error { return e.Err }
