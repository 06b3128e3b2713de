package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// Grouped output is kept in memory up to spillAt bytes per stream, and
// while all streams together hold less than spillTotal; past either it
// goes to a temporary file, so memory stays bounded however much the jobs
// print. When the temporary directory refuses a spill (no descriptor
// free, the disk full, the directory missing or not writable), the
// output stays in memory, past the thresholds, since nothing of it may
// be lost: a buffer tries to make its file spillTries times in all, once
// more each time another spillAt bytes have come, and once a file it
// writes fails it holds the rest of its stream in memory.
const (
	spillAt    = 1 << 20
	spillTotal = 64 << 20
	spillTries = 3
)

// inMemory counts the bytes that all spill buffers hold in memory.
var inMemory atomic.Int64

// A spillDir is the directory where grouped output spills, shared by the
// buffers of a run; it keeps the first refusal of a spill there, to be
// told once.
type spillDir struct {
	path string // "" for the default, os.TempDir

	mu      sync.Mutex
	refusal error // the first error of a spill; nil while none failed
	told    bool  // the refusal has been told
}

// refused records an error of a spill in d.
func (d *spillDir) refused(err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.refusal == nil {
		d.refusal = err
	}
}

// hasRefused reports whether a spill in d has failed.
func (d *spillDir) hasRefused() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.refusal != nil
}

// warning returns the warning of a refusal not told yet, and marks it
// told; "" when there is none.
func (d *spillDir) warning() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.refusal == nil || d.told {
		return ""
	}
	d.told = true
	path := d.path
	if path == "" {
		path = os.TempDir()
	}
	return fmt.Sprintf("childproc parallel: Warning: output is held in memory: the temporary directory %s refused it: %v\n", path, d.refusal)
}

// A spillBuffer holds one stream of a job's output until it is printed:
// in memory, then in an unlinked temporary file past the thresholds. The
// stream is the file's bytes and then mem: when the directory refuses
// the file, or a write to it fails, the rest stays in mem. The job's
// copier writes it; it is read only once the job has ended.
type spillBuffer struct {
	dir     *spillDir
	mem     []byte
	file    *os.File
	size    int64
	tries   int   // attempts to make the file
	retryAt int64 // the size at which to try again
	broken  bool  // a write to the file failed: the rest is in mem
	err     error // the first error reading the file
	// direct: the child writes the file itself (newFileBuffer); Write is
	// not used.
	direct bool
}

func newSpillBuffer(dir *spillDir) *spillBuffer { return &spillBuffer{dir: dir} }

// Write keeps p, in the file when there is one to write, else in memory.
// It never fails, so that the job is not stopped for the temporary file
// and nothing of its output is lost.
func (b *spillBuffer) Write(p []byte) (int, error) {
	b.size += int64(len(p))
	if b.file == nil && b.fits(len(p)) || !b.writable() {
		b.hold(p)
		return len(p), nil
	}
	n, err := b.file.Write(p)
	if err != nil {
		b.breakFile(err)
		b.hold(p[n:])
	}
	return len(p), nil
}

// fits reports whether n more bytes may be held in memory within the
// thresholds.
func (b *spillBuffer) fits(n int) bool {
	return len(b.mem)+n <= spillAt && inMemory.Load()+int64(n) <= spillTotal
}

// writable reports whether the stream goes on in the file, making the
// file when it is due.
func (b *spillBuffer) writable() bool {
	if b.file == nil && b.tries < spillTries && b.size >= b.retryAt {
		b.spill()
	}
	return b.file != nil && !b.broken
}

// hold keeps p in memory.
func (b *spillBuffer) hold(p []byte) {
	b.mem = append(b.mem, p...)
	inMemory.Add(int64(len(p)))
}

// spill moves what is in memory to a new temporary file; what the file
// does not take stays in memory.
func (b *spillBuffer) spill() {
	b.tries++
	b.retryAt = b.size + spillAt
	f, err := os.CreateTemp(b.dir.path, "childproc-parallel-*")
	if err != nil {
		b.dir.refused(err)
		return
	}
	os.Remove(f.Name()) // it lives as long as it is open
	b.file = f
	n, err := f.Write(b.mem)
	if err != nil {
		b.breakFile(err)
	}
	b.drop(n)
}

// breakFile records that a write to the file failed: the file keeps what
// it has, and the rest of the stream is held in memory.
func (b *spillBuffer) breakFile(err error) {
	b.broken = true
	b.dir.refused(err)
}

// drop gives back the first n bytes held in memory, now in the file.
func (b *spillBuffer) drop(n int) {
	inMemory.Add(-int64(n))
	b.mem = b.mem[n:]
	if len(b.mem) == 0 {
		b.mem = nil
	}
}

// release gives back the memory the buffer holds.
func (b *spillBuffer) release() { b.drop(len(b.mem)) }

// Len returns how many bytes the stream held.
func (b *spillBuffer) Len() int64 { return b.size }

// fileLen returns how many bytes of the stream are in the file.
func (b *spillBuffer) fileLen() int64 { return b.size - int64(len(b.mem)) }

// rewind sets the file's offset to its start, for a read of the stream.
func (b *spillBuffer) rewind() {
	if _, err := b.file.Seek(0, io.SeekStart); err != nil && b.err == nil {
		b.err = err
	}
}

// reader returns the whole stream from its start.
func (b *spillBuffer) reader() io.Reader {
	if b.file == nil {
		return bytes.NewReader(b.mem)
	}
	b.rewind()
	return io.MultiReader(io.LimitReader(b.file, b.fileLen()), bytes.NewReader(b.mem))
}

// WriteTo writes the stream to w; the part in a temporary file to a file
// w in the kernel where it can (sendFile).
func (b *spillBuffer) WriteTo(w io.Writer) (int64, error) {
	if b.file == nil {
		n, err := w.Write(b.mem)
		return int64(n), err
	}
	f, ok := w.(*os.File)
	if !ok {
		return b.copyTo(w)
	}
	b.rewind()
	if b.err != nil {
		return 0, b.readError()
	}
	n, handled, err := sendFile(f, b.file, b.fileLen())
	if !handled {
		return b.copyTo(w)
	}
	if err != nil {
		return n, err
	}
	m, err := w.Write(b.mem)
	return n + int64(m), err
}

// copyTo copies the stream to w.
func (b *spillBuffer) copyTo(w io.Writer) (int64, error) {
	n, err := io.Copy(w, b.reader())
	if err == nil {
		err = b.readError()
	}
	return n, err
}

// readError returns the error of reading the file, with its context; nil
// when there was none.
func (b *spillBuffer) readError() error {
	if b.err == nil {
		return nil
	}
	return fmt.Errorf("temporary file of the output: %w", b.err)
}

// Close frees the memory and the temporary file.
func (b *spillBuffer) Close() {
	b.release()
	if b.file != nil {
		b.file.Close()
		b.file = nil
	}
}

// contents returns the whole stream (for --json and a worker's answer).
func (b *spillBuffer) contents() []byte {
	var s bytes.Buffer
	b.WriteTo(&s)
	return s.Bytes()
}

// A printer writes the output of finished jobs: whole, stdout then
// stderr, tagged when asked, in the order the jobs end or (-k) in the
// order of their input.
type printer struct {
	stdout, stderr *bufio.Writer
	rawOut, rawErr io.Writer // what stdout and stderr write to
	keepOrder      bool
	json           bool
	next           int          // -k: the next job number to print
	pending        map[int]*job // -k: jobs that ended before their turn; nil for a job not run
	err            error        // the first error writing childproc's own output
}

func newPrinter(o *parallelOptions, stdout, stderr io.Writer) *printer {
	return &printer{
		stdout:    bufio.NewWriterSize(stdout, 64*1024),
		stderr:    bufio.NewWriterSize(stderr, 64*1024),
		rawOut:    stdout,
		rawErr:    stderr,
		keepOrder: o.keepOrder && o.output == outputGroup,
		json:      o.json,
		next:      1,
		pending:   map[int]*job{},
	}
}

// done takes the job numbered seq, which has ended (j) or was not run
// (j nil), and prints what is due.
func (p *printer) done(seq int, j *job) {
	if !p.keepOrder {
		p.print(j)
		return
	}
	p.pending[seq] = j
	for {
		j, ok := p.pending[p.next]
		if !ok {
			return
		}
		delete(p.pending, p.next)
		p.next++
		p.print(j)
	}
}

// flush prints the jobs still waiting for their turn, in order (those
// whose earlier jobs were stopped and never printed).
func (p *printer) flush() {
	for len(p.pending) > 0 {
		j, ok := p.pending[p.next]
		delete(p.pending, p.next)
		p.next++
		if ok {
			p.print(j)
		}
	}
	p.keep(p.stdout.Flush())
	p.keep(p.stderr.Flush())
}

// print writes one job's output.
func (p *printer) print(j *job) {
	if j == nil {
		return
	}
	defer j.closeOutput()
	if p.json {
		p.keep(writeJSON(p.stdout, j))
		p.keep(p.stdout.Flush())
		return
	}
	if j.stdout == nil { // not grouped
		return
	}
	p.keep(writeStream(p.stdout, p.rawOut, j.stdout, j.tag))
	p.keep(p.stdout.Flush())
	p.keep(writeStream(p.stderr, p.rawErr, j.stderr, j.tag))
	p.keep(p.stderr.Flush())
}

func (p *printer) keep(err error) {
	if p.err == nil {
		p.err = err
	}
}

// writeStream writes one stream to w, each line after the tag (which
// ends in a tab) when there is one. Without a tag a stream in a file goes
// to raw, what w writes to, once w is flushed.
func writeStream(w *bufio.Writer, raw io.Writer, b *spillBuffer, tag string) error {
	if tag == "" && b.file != nil {
		if err := w.Flush(); err != nil {
			return err
		}
		_, err := b.WriteTo(raw)
		return err
	}
	if tag == "" {
		_, err := b.WriteTo(w)
		return err
	}
	r := bufio.NewReaderSize(b.reader(), 64*1024)
	for {
		line, err := r.ReadSlice('\n')
		if len(line) > 0 {
			w.WriteString(tag)
			w.Write(line)
		}
		for err == bufio.ErrBufferFull { // a line longer than the buffer: the rest of it
			line, err = r.ReadSlice('\n')
			w.Write(line)
		}
		if err == io.EOF {
			return b.readError()
		}
		if err != nil {
			return err
		}
	}
}

// jobJSON is what --json prints for each finished job. Stdout and Stderr
// are the streams as text; a stream that is not valid UTF-8 has its
// invalid bytes replaced by U+FFFD there, and is given exactly, in
// base64, in StdoutBase64 or StderrBase64, which are absent otherwise.
type jobJSON struct {
	Seq          int      `json:"seq"`
	Args         []string `json:"args"`
	Command      string   `json:"command"`
	ExitCode     int      `json:"exit_code"`
	Signal       int      `json:"signal"`
	Start        string   `json:"start"`
	Runtime      float64  `json:"runtime"`
	Stdout       string   `json:"stdout"`
	Stderr       string   `json:"stderr"`
	StdoutBase64 []byte   `json:"stdout_base64,omitempty"`
	StderrBase64 []byte   `json:"stderr_base64,omitempty"`
}

func writeJSON(w io.Writer, j *job) error {
	v := jobJSON{
		Seq:      j.seq,
		Args:     j.args,
		Command:  j.cmd,
		ExitCode: j.exit,
		Signal:   j.signal,
		Start:    j.start.UTC().Format(time.RFC3339Nano),
		Runtime:  j.runtime.Seconds(),
	}
	v.Stdout, v.StdoutBase64 = jsonStream(j.stdout)
	v.Stderr, v.StderrBase64 = jsonStream(j.stderr)
	return json.NewEncoder(w).Encode(v)
}

// jsonStream returns a stream as --json gives it: as text, and its exact
// bytes too when they are not valid UTF-8.
func jsonStream(b *spillBuffer) (string, []byte) {
	s := string(b.contents())
	if utf8.ValidString(s) {
		return s, nil
	}
	return s, []byte(s)
}

// lineBufferMax is the most of one line that --line-buffer keeps: a
// longer line is passed on in pieces of that size, so memory stays
// bounded whatever a job prints.
const lineBufferMax = 1 << 20

// A jobLineWriter passes whole lines of a job's stream to w as they come
// (--line-buffer), tagged when asked; a line longer than lineBufferMax
// goes in pieces, the tag before the first; the last line without a
// newline goes at Close. Writers of all jobs share mu.
type jobLineWriter struct {
	mu      *sync.Mutex
	w       io.Writer
	tag     string // the start of each line: the tag and a tab
	own     sync.Mutex
	partial []byte // the start of a line
	midLine bool   // what went to w last did not end a line
}

func (l *jobLineWriter) Write(p []byte) (int, error) {
	l.own.Lock()
	defer l.own.Unlock()
	n := len(p)
	end := bytes.LastIndexByte(p, '\n') + 1
	if end == 0 && len(l.partial)+len(p) < lineBufferMax {
		l.partial = append(l.partial, p...)
		return n, nil
	}
	if end == 0 {
		end = len(p) // a piece of a long line
	}
	err := l.emitLocked(append(l.partial, p[:end]...))
	l.partial = append(l.partial[:0], p[end:]...)
	return n, err
}

// emitLocked writes b, tagging the lines it starts.
func (l *jobLineWriter) emitLocked(b []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	ends := b[len(b)-1] == '\n'
	defer func() { l.midLine = !ends }()
	if l.tag == "" {
		_, err := l.w.Write(b)
		return err
	}
	var out bytes.Buffer
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n') + 1
		if i == 0 {
			i = len(b)
		}
		if !l.midLine {
			out.WriteString(l.tag)
		}
		l.midLine = false
		out.Write(b[:i])
		b = b[i:]
	}
	_, err := l.w.Write(out.Bytes())
	return err
}

// Close writes the last line if it had no newline.
func (l *jobLineWriter) Close() error {
	l.own.Lock()
	defer l.own.Unlock()
	if len(l.partial) == 0 {
		return nil
	}
	err := l.emitLocked(l.partial)
	l.partial = nil
	return err
}
