package childproc

import (
	"errors"
	"sync"
)

// errMaxBuffer is returned by a capBuffer that has been filled.
var errMaxBuffer = errors.New("maxBuffer length exceeded")

// capBuffer keeps the first limit bytes written to it (Node's maxBuffer).
// A write past the limit keeps what fits and fails with errMaxBuffer.
type capBuffer struct {
	mu    sync.Mutex
	buf   []byte
	limit int
	full  bool
}

func (b *capBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := b.limit - len(b.buf); len(p) > room {
		b.buf = append(b.buf, p[:room]...)
		b.full = true
		return room, errMaxBuffer
	}
	b.buf = append(b.buf, p...)
	return len(p), nil
}

// Bytes returns the kept bytes; call it once the writer is done.
func (b *capBuffer) Bytes() []byte {
	if b == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf == nil {
		return []byte{}
	}
	return b.buf
}

// copyBufs holds the buffers of the goroutines that copy between pipes
// and io.Reader / io.Writer stdio entries.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 32*1024); return &b }}
