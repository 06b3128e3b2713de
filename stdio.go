package childproc

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"
	"syscall"

	"github.com/childproc/childproc/internal/fdio"
	"github.com/childproc/childproc/ipc"
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

	set    *settings       // MaxBuffer, Serialization and Channel
	exited <-chan struct{} // closed once the child has been reaped: the IPC channel's PeerDone
	report copyReport      // where copiers report why they stopped
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

// setupStdio prepares the child's stdio from the entries of sp, and gives
// Stdin, Stdout and Stderr their pipes. On error nothing stays open.
func (c *Child) setupStdio(sp *spec) (*stdioSetup, *Error) {
	st := &stdioSetup{ipcFd: -1, set: c.set, exited: c.exited, report: c}
	if err := c.setup(st, c.entries(sp)); err != nil {
		return nil, err
	}
	c.Stdin, _ = c.pipes[0].(io.WriteCloser)
	c.Stdout, _ = c.pipes[1].(io.ReadCloser)
	c.Stderr, _ = c.pipes[2].(io.ReadCloser)
	return st, nil
}

// setup prepares each stdio entry. On error nothing stays open.
func (s *stdioSet) setup(st *stdioSetup, entries []any) *Error {
	n := max(3, len(entries))
	st.files = make([]*os.File, n)
	s.pipes = make([]io.ReadWriteCloser, n)
	for i := 0; i < n; i++ {
		var e any
		if i < len(entries) {
			e = entries[i]
		}
		if err := s.setupEntry(st, i, e); err != nil {
			st.close()
			return err
		}
	}
	return nil
}

// entries are the stdio entries of sp as the child gets them: Exec's
// buffers in place of stdout and stderr, and [Options.Input] in place of
// a stdin pipe.
func (s *stdioSet) entries(sp *spec) []any {
	entries := append([]any(nil), sp.stdio...)
	if s.stdout != nil {
		entries = []any{sp.stdio[0], s.stdout, s.stderr}
	}
	if sp.set.Input != nil && isPipeEntry(entries, 0) {
		if len(entries) == 0 {
			entries = append(entries, nil)
		}
		entries[0] = bytes.NewReader(sp.set.Input)
	}
	return entries
}

// setupEntry prepares the child's fd i from its Stdio entry e.
func (s *stdioSet) setupEntry(st *stdioSetup, i int, e any) *Error {
	switch v := entryAt(i, e).(type) {
	case StdioMode:
		return s.setupMode(st, i, v)
	case int:
		return st.dupFd(i, v)
	case *pipeEnd:
		return st.sharePipeEnd(i, v)
	case *stream:
		if lent, err := s.borrowStream(st, i, v); lent || err != nil {
			return err
		}
	case *os.File:
		return st.giveFile(i, v)
	}
	return s.setupCopier(st, i, e)
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
func (s *stdioSet) setupMode(st *stdioSetup, i int, m StdioMode) *Error {
	switch m {
	case Pipe, Overlapped:
		return s.setupPipe(st, i)
	case Ignore:
		return st.ignore(i)
	case Inherit:
		st.inherit(i)
		return nil
	case IPC:
		return s.setupIPC(st, i)
	}
	return badStdio(i, m)
}

// setupIPC makes the channel at fd i: a socketpair whose parent end
// becomes an ipc.Channel, whose child end is fd i, named to the child by
// NODE_CHANNEL_FD.
func (s *stdioSet) setupIPC(st *stdioSetup, i int) *Error {
	if _, ok := ipc.LookupCodec(st.set.Serialization); !ok {
		return argError(CodeInvalidArgValue, "The serialization "+quote(st.set.Serialization)+" has no codec; registered: "+strings.Join(ipc.Codecs(), ", "))
	}
	parent, child, err := fdio.SocketPair()
	if err != nil {
		return sysError("socketpair", "", err)
	}
	var o ipc.Options
	if st.set.Channel != nil {
		o = *st.set.Channel
	}
	o.Serialization = st.set.Serialization
	o.PeerDone = st.exited // then Wait sees the channel end though nobody receives
	ch, err := ipc.NewFile(parent, &o)
	if err != nil {
		child.Close()
		return sysError("socketpair", "", err)
	}
	st.files[i] = child
	st.childOwned = append(st.childOwned, child)
	st.closers = append(st.closers, ch)
	s.ch = ch
	st.ipcFd = i
	return nil
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
func (s *stdioSet) borrowStream(st *stdioSetup, i int, str *stream) (bool, *Error) {
	if i != 0 {
		return false, nil
	}
	f, err := str.lend()
	if err != nil {
		return false, sysError("open", "stdio["+strconv.Itoa(i)+"]", err)
	}
	if f == nil {
		return false, nil
	}
	st.files[i] = f
	st.childOwned = append(st.childOwned, f)
	st.loans = append(st.loans, str)
	s.borrowed = append(s.borrowed, str)
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
func (s *stdioSet) setupCopier(st *stdioSetup, i int, e any) *Error {
	switch {
	case i == 0 && isReader(e), i >= 3 && isReader(e) && !isWriter(e):
		return s.copyFrom(st, i, e.(io.Reader))
	case i >= 1 && isWriter(e):
		return s.copyTo(st, i, e.(io.Writer))
	}
	return badStdio(i, e)
}

// copyFrom makes fd i a pipe that src is copied into.
func (s *stdioSet) copyFrom(st *stdioSetup, i int, src io.Reader) *Error {
	w, r, err := fdio.PipeToChild()
	if err != nil {
		return sysError("pipe", "", err)
	}
	st.give(i, r, w)
	s.ins.Add(1)
	report := st.report
	st.starts = append(st.starts, func() {
		go func() {
			defer s.ins.Done()
			copyIn(w, src, report)
		}()
	})
	return nil
}

// copyTo makes fd i a pipe copied to dst, or the pipe already made for a
// writer equal to dst.
func (s *stdioSet) copyTo(st *stdioSetup, i int, dst io.Writer) *Error {
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
	cp := &copier{r: r, dst: dst, name: stdioName(i), report: st.report, done: make(chan struct{})}
	if _, ok := dst.(*capBuffer); ok && s.overflowed == nil {
		s.overflowed = make(chan struct{})
	}
	s.copiers = append(s.copiers, cp)
	st.starts = append(st.starts, func() { go cp.run() })
	return nil
}

// setupPipe makes a pipe at fd i: a pipe(2) for 0-2, a socketpair above,
// where the child may read or write.
func (s *stdioSet) setupPipe(st *stdioSetup, i int) *Error {
	if i >= 3 {
		parent, child, err := fdio.SocketPair()
		if err != nil {
			return sysError("socketpair", "", err)
		}
		st.give(i, child, parent)
		s.addStream(i, newStream(parent, stdioName(i), st.set.maxBuffer))
		return nil
	}
	if i == 0 {
		w, r, err := lazyPipeToChild()
		if err != nil {
			return sysError("pipe", "", err)
		}
		st.give(i, r, w)
		s.stdinW, s.pipes[0] = w, w
		return nil
	}
	r, w, err := lazyPipeFromChild()
	if err != nil {
		return sysError("pipe", "", err)
	}
	st.give(i, w, r)
	s.addStream(i, newStream(r, stdioName(i), st.set.maxBuffer))
	return nil
}

// addStream makes str the parent's end of the pipe at fd i.
func (s *stdioSet) addStream(i int, str *stream) {
	s.streams = append(s.streams, str)
	s.pipes[i] = str
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
