package childproc

import (
	"io"
	"os"
	"strconv"
	"syscall"
)

// stdioSetup is the result of turning Options.Stdio into the files a child
// gets, before the child starts.
type stdioSetup struct {
	files      []*os.File  // the child's fds, index i being fd i; nil is closed
	childOwned []*os.File  // files opened for the child; closed after start
	parentEnds []io.Closer // the parent's ends; closed if the start fails
	closers    []io.Closer // the parent's IPC channel; closed if the start fails
	devNull    *os.File
	starts     []func() // copiers to start once the child runs
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

// closeParent releases the parent's ends.
func (st *stdioSetup) closeParent() {
	for _, f := range st.parentEnds {
		f.Close()
	}
	for _, c := range st.closers {
		c.Close()
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
	switch v := v.(type) {
	case StdioMode:
		return quote(string(v))
	case string:
		return "string " + quote(v)
	}
	return typeName(v)
}

// setupStdio prepares each stdio entry for c. On error nothing stays open.
func (c *Child) setupStdio(entries []any) (*stdioSetup, *Error) {
	st := &stdioSetup{}
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

func (c *Child) setupEntry(st *stdioSetup, i int, e any) *Error {
	if e == nil {
		e = Pipe
		if i >= 3 {
			e = Ignore
		}
	}
	if fd, ok := e.(int); ok && fd < 0 {
		e = Pipe
	}
	switch v := e.(type) {
	case StdioMode:
		switch v {
		case Pipe, Overlapped:
			return c.setupPipe(st, i)
		case Ignore:
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
		case Inherit:
			switch i {
			case 0:
				st.files[i] = os.Stdin
			case 1:
				st.files[i] = os.Stdout
			case 2:
				st.files[i] = os.Stderr
			default:
				// Node shares the parent's fd i when it is open.
				if f, err := dupFd(i); err == nil {
					st.files[i] = f
					st.childOwned = append(st.childOwned, f)
				}
			}
			return nil
		case IPC:
			return c.setupIPC(st, i)
		}
		return badStdio(i, v)
	case int:
		f, err := dupFd(v)
		if err != nil {
			return sysError("dup", "fd "+strconv.Itoa(v), err)
		}
		st.files[i] = f
		st.childOwned = append(st.childOwned, f)
		return nil
	case *pipeEnd:
		// Another child's Stdin: the child shares the pipe itself, as
		// Node shares a stream's handle, through a copy made under the
		// end's lock (its owner may close it at any moment).
		f, err := v.dup()
		if err != nil {
			return sysError("dup", "stdio["+strconv.Itoa(i)+"]", err)
		}
		st.files[i] = f
		st.childOwned = append(st.childOwned, f)
		return nil
	case *os.File:
		if v == nil {
			return badStdio(i, v)
		}
		if v.Fd() == ^uintptr(0) {
			// A closed file: the child would get whatever it opens next
			// in that fd's place.
			return sysError("dup", "stdio["+strconv.Itoa(i)+"]", syscall.EBADF)
		}
		st.files[i] = v
		return nil
	}
	switch {
	case i == 0 && isReader(e), i >= 3 && isReader(e) && !isWriter(e):
		w, r, err := childPipe(true)
		if err != nil {
			return sysError("pipe", "", err)
		}
		st.give(i, r, w)
		src := e.(io.Reader)
		c.ins.Add(1)
		st.starts = append(st.starts, func() { go c.copyIn(w, src) })
		return nil
	case i >= 1 && isWriter(e):
		r, w, err := childPipe(false)
		if err != nil {
			return sysError("pipe", "", err)
		}
		st.give(i, w, r)
		c.readEnds = append(c.readEnds, r)
		dst := e.(io.Writer)
		c.outs.Add(1)
		st.starts = append(st.starts, func() { go c.copyOut(i, dst, r) })
		return nil
	}
	return badStdio(i, e)
}

// setupPipe makes a pipe at fd i: a pipe(2) for 0-2, a socketpair above,
// where the child may read or write.
func (c *Child) setupPipe(st *stdioSetup, i int) *Error {
	if i >= 3 {
		parent, child, err := socketPair()
		if err != nil {
			return sysError("socketpair", "", err)
		}
		st.give(i, child, parent)
		s := newStream(parent, c.set.maxBuffer)
		c.streams = append(c.streams, s)
		c.pipes[i] = s
		return nil
	}
	if i == 0 {
		w, r, err := lazyChildPipe(true)
		if err != nil {
			return sysError("pipe", "", err)
		}
		st.give(i, r, w)
		c.Stdin, c.stdinW, c.pipes[0] = w, w, w
		return nil
	}
	r, w, err := lazyChildPipe(false)
	if err != nil {
		return sysError("pipe", "", err)
	}
	st.give(i, w, r)
	s := newStream(r, c.set.maxBuffer)
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
// the child reads EOF. A child that stops reading ends the copy (EPIPE).
func (c *Child) copyIn(w *os.File, src io.Reader) {
	defer c.ins.Done()
	io.Copy(w, src)
	w.Close()
}

// copyOut copies the child's output at fd i to an io.Writer entry.
func (c *Child) copyOut(i int, dst io.Writer, r *os.File) {
	defer c.outs.Done()
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	buf := *bp
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				if werr == errMaxBuffer {
					c.maxBufferExceeded(i)
				} else {
					c.copyFailed(i, werr)
				}
				break
			}
		}
		if err != nil {
			break
		}
	}
	r.Close()
}

// maxBufferExceeded does what Node does when a buffered stream overflows:
// it stops reading stdout and stderr and sends KillSignal.
func (c *Child) maxBufferExceeded(i int) {
	c.mu.Lock()
	first := c.overflow == ""
	if first {
		c.overflow = stdioName(i)
	}
	c.mu.Unlock()
	if !first {
		return
	}
	c.stop(func() {})
	c.stopReading()
}

func (c *Child) copyFailed(i int, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.copyErr == nil {
		c.copyErr = &Error{Code: "EIO", Cmd: c.cmd, ExitCode: -1, Err: err, msg: "copying the child's " + stdioName(i) + ": " + err.Error()}
	}
}
