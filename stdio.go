package childproc

import (
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/childproc/childproc/internal/fdio"
)

// stdioSetup is the result of turning [Options.Stdio] into the files a child
// gets, before the child starts.
type stdioSetup struct {
	files      []*os.File  // the child's fds, index i being fd i; nil is closed
	childOwned []*os.File  // files opened for the child; closed after start
	parentEnds []io.Closer // the parent's ends; closed if the start fails
	closers    []io.Closer // the parent's IPC channel; closed if the start fails
	loans      []*stream   // other children's streams this child reads; given back if the start fails
	writers    []writerPipe
	devNull    *os.File
	starts     []func() // copiers to start once the child runs
	ipcFd      int      // the child's fd of the IPC channel, or -1
}

// writerPipe is the pipe made for an io.Writer entry, which an equal
// entry at another fd shares (as os/exec shares one between Stdout and
// Stderr): one copier, so one Write at a time.
type writerPipe struct {
	w     io.Writer
	child *os.File
}

// close releases everything; used when the child could not start.
func (st *stdioSetup) close() {
	for _, f := range st.childOwned {
		f.Close()
	}
	st.closeParent()
}

// give records a pipe: the child's end becomes fd i (and is closed here
// once the child has started), the parent keeps the other end.
func (st *stdioSetup) give(i int, child *os.File, parent io.Closer) {
	st.files[i] = child
	st.childOwned = append(st.childOwned, child)
	st.parentEnds = append(st.parentEnds, parent)
}

// pipeFor returns the child's end of the pipe already made for a writer
// equal to w, or nil.
func (st *stdioSetup) pipeFor(w io.Writer) *os.File {
	for _, wp := range st.writers {
		if interfaceEqual(wp.w, w) {
			return wp.child
		}
	}
	return nil
}

// interfaceEqual reports whether a == b, false for values that cannot be
// compared.
func interfaceEqual(a, b any) (eq bool) {
	defer func() { recover() }()
	return a == b
}

// closeParent releases the parent's ends.
func (st *stdioSetup) closeParent() {
	for _, f := range st.parentEnds {
		f.Close()
	}
	for _, c := range st.closers {
		c.Close()
	}
	for _, s := range st.loans {
		s.giveBack()
	}
}

func stdioName(i int) string {
	switch i {
	case 0:
		return "stdin"
	case 1:
		return "stdout"
	case 2:
		return "stderr"
	}
	return "stdio[" + strconv.Itoa(i) + "]"
}

func badStdio(i int, v any) *Error {
	return argError(CodeInvalidArgValue, "The argument 'stdio["+strconv.Itoa(i)+"]' is invalid. Received "+describe(v))
}

func describe(v any) string {
	if isTypedNil(v) {
		return fmt.Sprintf("nil %T", v)
	}
	switch v := v.(type) {
	case StdioMode:
		return quote(string(v))
	case string:
		return "string " + quote(v)
	}
	return typeName(v)
}

// isTypedNil reports whether v is a nil pointer, map, slice, func or
// channel held in a non-nil interface: an entry that would fail only once
// a copier used it.
func isTypedNil(v any) bool {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Func, reflect.Chan, reflect.Interface, reflect.UnsafePointer:
		return rv.IsNil()
	}
	return false
}

// checkStdioNils rejects a typed nil entry before anything is made.
func checkStdioNils(entries []any) *Error {
	for i, e := range entries {
		if isTypedNil(e) {
			return badStdio(i, e)
		}
	}
	return nil
}

// setupStdio prepares each stdio entry for c. On error nothing stays open.
func (c *Child) setupStdio(entries []any) (*stdioSetup, *Error) {
	st := &stdioSetup{ipcFd: -1}
	n := max(3, len(entries))
	st.files = make([]*os.File, n)
	c.pipes = make([]io.ReadWriteCloser, n)
	for i := 0; i < n; i++ {
		var e any
		if i < len(entries) {
			e = entries[i]
		}
		if err := c.setupEntry(st, i, e); err != nil {
			st.close()
			return nil, err
		}
	}
	return st, nil
}

// setupEntry prepares the child's fd i from its Stdio entry e.
func (c *Child) setupEntry(st *stdioSetup, i int, e any) *Error {
	switch v := entryAt(i, e).(type) {
	case StdioMode:
		return c.setupMode(st, i, v)
	case int:
		return st.dupFd(i, v)
	case *pipeEnd:
		return st.sharePipeEnd(i, v)
	case *stream:
		if lent, err := c.borrowStream(st, i, v); lent || err != nil {
			return err
		}
	case *os.File:
		return st.giveFile(i, v)
	}
	return c.setupCopier(st, i, e)
}

// entryAt is the entry e at fd i, with its defaults: nil is Pipe for fds
// 0 to 2 and Ignore above; a negative fd number is Pipe.
func entryAt(i int, e any) any {
	switch v := e.(type) {
	case nil:
		if i >= 3 {
			return Ignore
		}
		return Pipe
	case int:
		if v < 0 {
			return Pipe
		}
	}
	return e
}

// setupMode prepares fd i for a StdioMode entry.
func (c *Child) setupMode(st *stdioSetup, i int, m StdioMode) *Error {
	switch m {
	case Pipe, Overlapped:
		return c.setupPipe(st, i)
	case Ignore:
		return st.ignore(i)
	case Inherit:
		st.inherit(i)
		return nil
	case IPC:
		return c.setupIPC(st, i)
	}
	return badStdio(i, m)
}

// ignore gives fd i the null device; fds from 3 up are left closed.
func (st *stdioSetup) ignore(i int) *Error {
	if i >= 3 {
		return nil
	}
	if st.devNull == nil {
		f, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
		if err != nil {
			return sysError("open", os.DevNull, err)
		}
		st.devNull = f
		st.childOwned = append(st.childOwned, f)
	}
	st.files[i] = st.devNull
	return nil
}

// inherit gives fd i the parent's: its stdin, stdout or stderr, and from
// 3 up the parent's fd i when it is open, as Node shares it.
func (st *stdioSetup) inherit(i int) {
	switch i {
	case 0:
		st.files[i] = os.Stdin
	case 1:
		st.files[i] = os.Stdout
	case 2:
		st.files[i] = os.Stderr
	default:
		if f, err := fdio.DupFd(i); err == nil {
			st.files[i] = f
			st.childOwned = append(st.childOwned, f)
		}
	}
}

// dupFd gives fd i a copy of the parent's fd.
func (st *stdioSetup) dupFd(i, fd int) *Error {
	f, err := fdio.DupFd(fd)
	if err != nil {
		return sysError("dup", "fd "+strconv.Itoa(fd), err)
	}
	st.files[i] = f
	st.childOwned = append(st.childOwned, f)
	return nil
}

// sharePipeEnd gives fd i another child's Stdin: the child shares the
// pipe itself, as Node shares a stream's handle, through a copy made
// under the end's lock (its owner may close it at any moment).
func (st *stdioSetup) sharePipeEnd(i int, p *pipeEnd) *Error {
	f, err := p.dup()
	if err != nil {
		return sysError("dup", "stdio["+strconv.Itoa(i)+"]", err)
	}
	st.files[i] = f
	st.childOwned = append(st.childOwned, f)
	return nil
}

// borrowStream gives stdin another child's Stdout or Stderr: the child
// reads the pipe itself, as Node hands over a stream's handle, and the
// other child's Wait leaves the pipe to it until it exits. It reports
// false for a stream that holds drained bytes or has ended, and for an
// fd other than stdin: that stream is copied.
func (c *Child) borrowStream(st *stdioSetup, i int, s *stream) (bool, *Error) {
	if i != 0 {
		return false, nil
	}
	f, err := s.lend()
	if err != nil {
		return false, sysError("open", "stdio["+strconv.Itoa(i)+"]", err)
	}
	if f == nil {
		return false, nil
	}
	st.files[i] = f
	st.childOwned = append(st.childOwned, f)
	st.loans = append(st.loans, s)
	c.borrowed = append(c.borrowed, s)
	return true, nil
}

// giveFile gives fd i an *os.File entry as it is. A closed file is
// refused: the child would get whatever it opens next in that fd's place.
func (st *stdioSetup) giveFile(i int, f *os.File) *Error {
	if f.Fd() == ^uintptr(0) {
		return sysError("dup", "stdio["+strconv.Itoa(i)+"]", syscall.EBADF)
	}
	st.files[i] = f
	return nil
}

// setupCopier prepares fd i for an io.Reader or io.Writer entry: a pipe
// and a goroutine that copies between it and the entry once the child
// runs. An io.Reader is read into stdin (or into an fd from 3 up that is
// not also a writer); an io.Writer gets what the child writes to the
// other fds.
func (c *Child) setupCopier(st *stdioSetup, i int, e any) *Error {
	switch {
	case i == 0 && isReader(e), i >= 3 && isReader(e) && !isWriter(e):
		return c.copyFrom(st, i, e.(io.Reader))
	case i >= 1 && isWriter(e):
		return c.copyTo(st, i, e.(io.Writer))
	}
	return badStdio(i, e)
}

// copyFrom makes fd i a pipe that src is copied into.
func (c *Child) copyFrom(st *stdioSetup, i int, src io.Reader) *Error {
	w, r, err := fdio.PipeToChild()
	if err != nil {
		return sysError("pipe", "", err)
	}
	st.give(i, r, w)
	c.ins.Add(1)
	st.starts = append(st.starts, func() { go c.copyIn(w, src) })
	return nil
}

// copyTo makes fd i a pipe copied to dst, or the pipe already made for a
// writer equal to dst.
func (c *Child) copyTo(st *stdioSetup, i int, dst io.Writer) *Error {
	if f := st.pipeFor(dst); f != nil {
		st.files[i] = f
		return nil
	}
	r, w, err := fdio.PipeFromChild()
	if err != nil {
		return sysError("pipe", "", err)
	}
	st.give(i, w, r)
	st.writers = append(st.writers, writerPipe{dst, w})
	cp := &copier{r: r, dst: dst, name: stdioName(i), done: make(chan struct{})}
	if _, ok := dst.(*capBuffer); ok && c.overflowed == nil {
		c.overflowed = make(chan struct{})
	}
	c.copiers = append(c.copiers, cp)
	st.starts = append(st.starts, func() { go c.copyOut(cp) })
	return nil
}

// setupPipe makes a pipe at fd i: a pipe(2) for 0-2, a socketpair above,
// where the child may read or write.
func (c *Child) setupPipe(st *stdioSetup, i int) *Error {
	if i >= 3 {
		parent, child, err := fdio.SocketPair()
		if err != nil {
			return sysError("socketpair", "", err)
		}
		st.give(i, child, parent)
		s := newStream(parent, stdioName(i), c.set.maxBuffer)
		c.streams = append(c.streams, s)
		c.pipes[i] = s
		return nil
	}
	if i == 0 {
		w, r, err := lazyPipeToChild()
		if err != nil {
			return sysError("pipe", "", err)
		}
		st.give(i, r, w)
		c.Stdin, c.stdinW, c.pipes[0] = w, w, w
		return nil
	}
	r, w, err := lazyPipeFromChild()
	if err != nil {
		return sysError("pipe", "", err)
	}
	st.give(i, w, r)
	s := newStream(r, stdioName(i), c.set.maxBuffer)
	c.streams = append(c.streams, s)
	c.pipes[i] = s
	if i == 1 {
		c.Stdout = s
	} else {
		c.Stderr = s
	}
	return nil
}

// copyIn copies an io.Reader entry into the child, then closes the pipe so
// the child reads EOF. A child that stops reading ends the copy (EPIPE),
// as in os/exec; an error from the Reader is what Wait returns (when the
// child succeeded).
func (c *Child) copyIn(w *os.File, src io.Reader) {
	defer c.ins.Done()
	defer w.Close()
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	buf := *bp
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				if !childStoppedReading(werr) {
					c.copyFailed("copying to the child's stdin", werr)
				}
				return
			}
		}
		if err == io.EOF {
			return
		}
		if err != nil {
			c.copyFailed("reading the child's stdin", err)
			return
		}
	}
}

// childStoppedReading reports whether a write to the child's stdin failed
// because nobody reads the pipe any more.
func childStoppedReading(err error) bool {
	return errors.Is(err, syscall.EPIPE) || errors.Is(err, os.ErrClosed)
}

// copier copies the child's output at one fd (or more, sharing one pipe)
// to an io.Writer entry.
type copier struct {
	r       *os.File
	dst     io.Writer
	name    string      // the stdio name, for errors
	cut     atomic.Bool // the stdio is being cut
	writing atomic.Bool // inside dst.Write
	done    chan struct{}
}

// copyOut runs a copier until the pipe ends, the Writer fails, or the
// stdio is cut (it then delivers what the pipe holds and stops).
func (c *Child) copyOut(cp *copier) {
	defer close(cp.done)
	defer cp.r.Close()
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	buf := *bp
	for {
		n, err := cp.r.Read(buf)
		if !c.deliver(cp, buf[:n]) {
			return
		}
		if cp.cut.Load() && errors.Is(err, os.ErrDeadlineExceeded) {
			c.deliverRest(cp, buf)
			return
		}
		if err != nil {
			return
		}
	}
}

// deliver writes b to the copier's Writer; false when the copy must stop.
func (c *Child) deliver(cp *copier, b []byte) bool {
	if len(b) == 0 {
		return true
	}
	cp.writing.Store(true)
	_, err := cp.dst.Write(b)
	cp.writing.Store(false)
	switch {
	case err == ErrMaxBuffer:
		c.maxBufferExceeded(cp.name)
	case err != nil:
		c.copyFailed("copying the child's "+cp.name, err)
	}
	return err == nil
}

// deliverRest delivers what the pipe holds once the stdio is cut, without
// waiting for more.
func (c *Child) deliverRest(cp *copier, buf []byte) {
	if cp.r.SetReadDeadline(time.Time{}) != nil {
		return
	}
	for range drainNowReads {
		n, err := fdio.ReadNow(cp.r, buf)
		if err != nil || !c.deliver(cp, buf[:n]) {
			return
		}
	}
}

// cutOff makes the copier deliver what its pipe holds and stop; a copier
// whose pipe has no deadlines has the pipe closed.
func (cp *copier) cutOff() {
	cp.cut.Store(true)
	if cp.r.SetReadDeadline(time.Unix(1, 0)) != nil {
		cp.r.Close()
	}
}

// awaitCut waits for a cut copier to finish, unless it is blocked in a
// Write of the caller's io.Writer: that one is left to end when the Write
// returns (it then closes its pipe), as os/exec leaves a copier blocked
// in a Reader. A capBuffer's Write never blocks.
func (cp *copier) awaitCut() {
	if _, ours := cp.dst.(*capBuffer); ours || !cp.writing.Load() {
		<-cp.done
	}
}

// maxBufferExceeded does what Node does when a buffered stream overflows:
// the stream stops reading (its copier has stopped) and the child is sent
// KillSignal. What the other stream already holds is kept: it is read on,
// and cut StopWaitDelay after the exit if grandchildren hold it.
func (c *Child) maxBufferExceeded(name string) {
	c.mu.Lock()
	first := c.overflow == ""
	if first {
		c.overflow = name
	}
	c.mu.Unlock()
	if !first {
		return
	}
	c.stop(func() {})
	close(c.overflowed)
}

func (c *Child) copyFailed(what string, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.copyErr == nil {
		c.copyErr = &Error{Code: "EIO", Cmd: c.cmd, ExitCode: -1, Err: err, msg: what + ": " + err.Error()}
	}
}

// checkStdioModes rejects a typed nil entry and a second IPC entry.
func checkStdioModes(entries []any) *Error {
	if err := checkStdioNils(entries); err != nil || countIPC(entries) <= 1 {
		return err
	}
	return argError(CodeIPCOnePipe, "Child process can have only one IPC pipe")
}

// checkSyncStdioModes rejects a typed nil entry and any IPC entry: a sync
// child has no channel.
func checkSyncStdioModes(entries []any) *Error {
	if err := checkStdioNils(entries); err != nil || countIPC(entries) == 0 {
		return err
	}
	return argError(CodeIPCSyncFork, "IPC cannot be used with synchronous forks")
}

// countIPC counts the IPC entries.
func countIPC(entries []any) int {
	n := 0
	for _, e := range entries {
		if m, ok := e.(StdioMode); ok && m == IPC {
			n++
		}
	}
	return n
}

// isPipeEntry reports whether Stdio[i] asks for a pipe.
func isPipeEntry(entries []any, i int) bool {
	var e any
	if i < len(entries) {
		e = entries[i]
	}
	switch v := e.(type) {
	case nil:
		return i < 3
	case StdioMode:
		return v == Pipe || v == Overlapped
	case int:
		return v < 0
	}
	return false
}

// Stdio returns the parent's end of the pipe at the child's fd i, or nil
// when Stdio[i] is not a pipe (Node's subprocess.stdio[i]). Entries from 3
// up are sockets that can be both read and written.
func (c *Child) Stdio(i int) io.ReadWriteCloser {
	if i < 0 || i >= len(c.pipes) {
		return nil
	}
	return c.pipes[i]
}
