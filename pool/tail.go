package pool

import (
	"io"
	"sync"
)

// tailSize is how many of a worker's last stderr bytes a WorkerError
// carries.
const tailSize = 4 << 10

// tail keeps the last tailSize bytes written to it and copies every
// write on to next (when not nil).
type tail struct {
	next io.Writer

	mu  sync.Mutex
	buf []byte
}

func (t *tail) Write(b []byte) (int, error) {
	t.mu.Lock()
	t.buf = append(t.buf, b...)
	if over := len(t.buf) - tailSize; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	t.mu.Unlock()
	if t.next != nil {
		t.next.Write(b) // a failing copy must not stop the worker's stderr
	}
	return len(b), nil
}

// bytes returns a copy of what the tail holds.
func (t *tail) bytes() []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]byte(nil), t.buf...)
}
