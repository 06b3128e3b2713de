package childproc

import (
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"syscall"

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

// giveFile gives fd i an *os.File entry as it is. A closed file is
// refused: the child would get whatever it opens next in that fd's place.
func (st *stdioSetup) giveFile(i int, f *os.File) *Error {
	if f.Fd() == ^uintptr(0) {
		return sysError("dup", "stdio["+strconv.Itoa(i)+"]", syscall.EBADF)
	}
	st.files[i] = f
	return nil
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
