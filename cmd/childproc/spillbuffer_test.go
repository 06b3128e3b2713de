//go:build linux

package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// openFiles counts this process's open descriptors.
func openFiles(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(fds)
}

// stream is n bytes that differ from piece to piece, so that a piece
// lost or out of order shows.
func stream(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>16)
	}
	return b
}

// writeInPieces writes p to b 64 KiB at a time, as a job's copier does.
func writeInPieces(b *spillBuffer, p []byte) {
	for len(p) > 0 {
		n := min(len(p), 64<<10)
		b.Write(p[:n])
		p = p[n:]
	}
}

// checkStream fails the test unless b holds want, read back as the
// printer reads it: through WriteTo to a regular file (sendfile(2) for
// the part in a file) and to a buffer.
func checkStream(t *testing.T, b *spillBuffer, want []byte) {
	t.Helper()
	if b.Len() != int64(len(want)) {
		t.Errorf("Len %d, want %d", b.Len(), len(want))
	}
	if got := b.contents(); !bytes.Equal(got, want) {
		t.Errorf("contents: %d bytes, want the %d written, in order", len(got), len(want))
	}
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if n, err := b.WriteTo(f); err != nil || n != int64(len(want)) {
		t.Errorf("WriteTo a file: %d, %v; want %d, nil", n, err, len(want))
	}
	f.Seek(0, io.SeekStart)
	if got, _ := io.ReadAll(f); !bytes.Equal(got, want) {
		t.Errorf("WriteTo a file: %d bytes, want the %d written, in order", len(got), len(want))
	}
}

// TestSpillBufferFileFullKeepsStream: a temporary file that fills up
// (ENOSPC on a small tmpfs) keeps what it took, and the rest of the
// stream is held in memory; the whole prints in order, and Close gives
// back the memory, the descriptor and the file.
func TestSpillBufferFileFullKeepsStream(t *testing.T) {
	dir := &spillDir{path: smallTmpfs(t, "1m")}
	fds, held := openFiles(t), inMemory.Load()
	want := stream(3 << 20)
	b := newSpillBuffer(dir)
	writeInPieces(b, want)
	if b.file == nil || !b.broken || b.fileLen() == 0 || len(b.mem) == 0 {
		t.Fatalf("file %v, broken %v, %d bytes in the file, %d in memory; want a file that failed part way", b.file, b.broken, b.fileLen(), len(b.mem))
	}
	if !dir.hasRefused() || dir.warning() == "" || dir.warning() != "" {
		t.Errorf("want the refusal recorded and its warning given once")
	}
	checkStream(t, b, want)
	b.Close()
	if n := openFiles(t); n != fds {
		t.Errorf("%d descriptors open after Close, want %d", n, fds)
	}
	if n := inMemory.Load(); n != held {
		t.Errorf("%d bytes counted in memory after Close, want %d", n, held)
	}
	if df, err := os.ReadDir(dir.path); err != nil || len(df) > 0 {
		t.Errorf("%d files left in the temporary directory (%v)", len(df), err)
	}
}

// TestSpillBufferRetriesBounded: a buffer whose directory refuses its
// file tries again each spillAt bytes, spillTries times in all, and
// spills once the directory takes the file; what it held meanwhile
// stays in order before the rest.
func TestSpillBufferRetriesBounded(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "later")
	want := stream(10 << 20)

	refused := newSpillBuffer(&spillDir{path: missing})
	defer refused.Close()
	writeInPieces(refused, want)
	if refused.tries != spillTries || refused.file != nil {
		t.Errorf("refused every time: %d tries, file %v; want %d tries, no file", refused.tries, refused.file, spillTries)
	}
	checkStream(t, refused, want)

	later := newSpillBuffer(&spillDir{path: missing})
	defer later.Close()
	writeInPieces(later, want[:spillAt+1])
	if later.tries != 1 || later.file != nil {
		t.Fatalf("after the first refusal: %d tries, file %v; want 1, none", later.tries, later.file)
	}
	if err := os.Mkdir(missing, 0o700); err != nil {
		t.Fatal(err)
	}
	writeInPieces(later, want[spillAt+1:])
	if later.tries != 2 || later.file == nil || later.broken || len(later.mem) != 0 {
		t.Errorf("once the directory is there: %d tries, file %v, broken %v, %d bytes in memory; want 2 tries and all in the file", later.tries, later.file, later.broken, len(later.mem))
	}
	checkStream(t, later, want)
}
