package cluster

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/nats-io/nats.go"

	"github.com/childproc/childproc/pool"
)

// The headers of task and result messages.
const (
	hdrTask       = "Childproc-Task"        // "1" on every task: the protocol's version
	hdrMaxDeliver = "Childproc-Max-Deliver" // the submitter's Options.MaxDeliver
	hdrRetries    = "Childproc-Retries"     // the submitter's Options.TaskRetries
	hdrError      = "Childproc-Error"       // on a result: the kind of error its body holds
	hdrReply      = "Childproc-Reply"       // on a task of a Pool's own batch: where to send its result directly
	hdrResult     = "Childproc-Result"      // on a result sent directly: the result's subject
	protocol      = "1"
)

// The kinds of error a result may hold.
const (
	kindTask    = "task"    // the handler's error: *pool.TaskError
	kindWorker  = "worker"  // the local worker process died: *pool.WorkerError
	kindTimeout = "timeout" // the local pool's TaskTimeout
	kindDead    = "dead"    // dead-lettered: *DeadLetterError
	kindBad     = "bad"     // the request could not be decoded: ErrBadTask
	kindLarge   = "large"   // the response was too large to send: ErrTooLarge
	kindOther   = "other"   // any other failure of the worker's
)

// headroom is what the subject and headers of a message may take of
// the server's maximum payload; the rest is for its body.
const headroom = 1024

// wireError is an error as results carry it.
type wireError struct {
	Message    string     `json:"message"`
	Name       string     `json:"name,omitempty"`
	Stack      string     `json:"stack,omitempty"`
	Pid        int        `json:"pid,omitempty"`
	Stderr     []byte     `json:"stderr,omitempty"`
	Deliveries int        `json:"deliveries,omitempty"`
	Kind       string     `json:"kind,omitempty"` // of Last's error, in a dead letter
	Last       *wireError `json:"last,omitempty"`
}

// encodeError returns the kind and the wire form of a handler's err.
func encodeError(err error) (string, *wireError) {
	var te *pool.TaskError
	var we *pool.WorkerError
	switch {
	case errors.As(err, &te):
		return kindTask, &wireError{Message: te.Message, Name: te.Name, Stack: te.Stack}
	case errors.As(err, &we):
		return kindWorker, &wireError{Message: we.Err.Error(), Pid: we.Pid, Stderr: we.Stderr}
	case errors.Is(err, pool.ErrTimeout):
		return kindTimeout, &wireError{Message: err.Error()}
	case errors.Is(err, ErrBadTask):
		return kindBad, &wireError{Message: err.Error()}
	case errors.Is(err, ErrTooLarge):
		return kindLarge, &wireError{Message: err.Error()}
	}
	return kindOther, &wireError{Message: err.Error(), Name: fmt.Sprintf("%T", err)}
}

// decodeError returns the error that a result of the given kind holds.
func decodeError(task, kind string, body []byte) error {
	var w wireError
	if err := json.Unmarshal(body, &w); err != nil {
		return fmt.Errorf("cluster: task %s: an error result that is not JSON: %w", task, err)
	}
	return w.err(task, kind)
}

func (w *wireError) err(task, kind string) error {
	switch kind {
	case kindTask:
		return &pool.TaskError{Message: w.Message, Name: w.Name, Stack: w.Stack}
	case kindWorker:
		return &pool.WorkerError{Pid: w.Pid, Err: errors.New(w.Message), Stderr: w.Stderr}
	case kindTimeout:
		return fmt.Errorf("%w (task %s)", pool.ErrTimeout, task)
	case kindBad:
		return fmt.Errorf("%w: task %s: %s", ErrBadTask, task, w.Message)
	case kindLarge:
		return fmt.Errorf("%w: task %s: %s", ErrTooLarge, task, w.Message)
	case kindDead:
		d := &DeadLetterError{Task: task, Deliveries: w.Deliveries}
		if w.Last != nil {
			d.Err = w.Last.err(task, w.Kind)
		}
		return d
	}
	return fmt.Errorf("cluster: task %s failed on its worker: %s", task, w.Message)
}

// newTaskMsg returns the message of a task.
func newTaskMsg(subj string, value []byte, o *Options) *nats.Msg {
	m := nats.NewMsg(subj)
	m.Data = value
	m.Header.Set(hdrTask, protocol)
	m.Header.Set(nats.MsgIdHdr, subj)
	if o.MaxDeliver != DefaultMaxDeliver {
		m.Header.Set(hdrMaxDeliver, strconv.Itoa(o.MaxDeliver))
	}
	if o.TaskRetries != 0 {
		m.Header.Set(hdrRetries, strconv.Itoa(o.TaskRetries))
	}
	return m
}

// headerInt reads a non-negative count from h, or def.
func headerInt(h nats.Header, key string, def int) int {
	v := h.Get(key)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return def
	}
	return n
}
