package childproc

import "sync"

// capBuffer keeps the first limit bytes written to it (Node's maxBuffer).
// A write past the limit keeps what fits and fails with ErrMaxBuffer.
//
// The first headSize bytes, all that most outputs have, grow in one slice
// on the heap. Past them the bytes go to fixed chunks, off the Go heap
// where the platform allows (see newChunk), so that growing never copies
// and leaves no garbage behind; Bytes then assembles them into one slice,
// freeing each chunk as soon as it has been copied. The peak is the kept
// bytes plus one chunk, where growth by append would peak at about three
// times the kept bytes.
type capBuffer struct {
	mu     sync.Mutex
	head   []byte
	chunks [][]byte // full but for the last
	n      int      // bytes kept
	limit  int
	out    []byte // assembled by Bytes
}

const (
	headSize  = 1 << 20 // bytes kept in the head slice
	chunkSize = 4 << 20 // bytes per chunk past the head
)

func (b *capBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := b.limit - b.n; len(p) > room {
		b.keep(p[:room])
		return room, ErrMaxBuffer
	}
	b.keep(p)
	return len(p), nil
}

// keep appends p to the head, then to the chunks.
func (b *capBuffer) keep(p []byte) {
	b.n += len(p)
	if room := headSize - len(b.head); room > 0 && len(b.chunks) == 0 {
		k := min(room, len(p))
		b.head = append(b.head, p[:k]...)
		p = p[k:]
	}
	for len(p) > 0 {
		last := len(b.chunks) - 1
		if last < 0 || len(b.chunks[last]) == cap(b.chunks[last]) {
			b.chunks = append(b.chunks, newChunk(chunkSize)[:0])
			last++
		}
		c := b.chunks[last]
		k := min(cap(c)-len(c), len(p))
		b.chunks[last] = append(c, p[:k]...)
		p = p[k:]
	}
}

// Bytes returns the kept bytes; call it once the writer is done. The
// first call assembles them.
func (b *capBuffer) Bytes() []byte {
	if b == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.out != nil {
		return b.out
	}
	if len(b.chunks) == 0 {
		b.out = b.head
		if b.out == nil {
			b.out = []byte{}
		}
		return b.out
	}
	out := make([]byte, 0, b.n)
	out = append(out, b.head...)
	b.head = nil
	for i, c := range b.chunks {
		out = append(out, c...)
		freeChunk(c)
		b.chunks[i] = nil
	}
	b.chunks = nil
	b.out = out
	return out
}

// copyBufs holds the buffers of the goroutines that copy between pipes
// and io.Reader / io.Writer stdio entries.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 32*1024); return &b }}
