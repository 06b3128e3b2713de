package childproc

import (
	"bytes"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/childproc/childproc/internal/fdio"
	"github.com/childproc/childproc/ipc"
)

// stdioSet is the part of a Child that holds the parent's ends of its
// stdio and the goroutines that serve them, and ends them once the child
// has exited.
type stdioSet struct {
	pipes      []io.ReadWriteCloser // Stdio(i): the parent's end of each pipe entry
	copiers    []*copier            // from the child's output to io.Writer entries
	ins        sync.WaitGroup       // copiers from io.Reader entries to the child
	borrowed   []*stream            // other children's streams this child reads as stdin
	overflowed chan struct{}        // closed when a capBuffer entry passed MaxBuffer; nil without one

	stdout, stderr *capBuffer   // Exec and ExecFile; else nil
	ch             *ipc.Channel // the IPC channel, or nil
	cutIO          bool         // WaitDelay (or StopWaitDelay) ran out; set before Child.done is closed

	// Guarded by stopper.mu.
	overflow string // "stdout" or "stderr" once a buffer passed MaxBuffer
	copyErr  *Error // a copy to an io.Writer entry failed
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
		s.pipes[i] = newStream(parent, stdioName(i), st.set.maxBuffer)
		return nil
	}
	if i == 0 {
		w, r, err := lazyPipeToChild()
		if err != nil {
			return sysError("pipe", "", err)
		}
		st.give(i, r, w)
		s.pipes[0] = w
		return nil
	}
	r, w, err := lazyPipeFromChild()
	if err != nil {
		return sysError("pipe", "", err)
	}
	st.give(i, w, r)
	s.pipes[i] = newStream(r, stdioName(i), st.set.maxBuffer)
	return nil
}

// streams are the pipes the user reads: drained after the exit.
func (s *stdioSet) streams() []*stream {
	var streams []*stream
	for _, p := range s.pipes {
		if str, ok := p.(*stream); ok {
			streams = append(streams, str)
		}
	}
	return streams
}

// closeStdin closes the parent's end of a stdin pipe, as Node destroys
// stdin on exit.
func (s *stdioSet) closeStdin() {
	if w, ok := s.pipes[0].(*pipeEnd); ok {
		w.Close()
	}
}

// StopWaitDelay bounds how long Wait waits for the stdio of a child that
// Timeout, abort or MaxBuffer stopped, once the child has exited (or, for
// MaxBuffer, once the buffer overflowed after the exit): grandchildren
// that escaped the stop and hold the pipes cannot hold up Wait, which
// returns at most ForceKillAfter plus StopWaitDelay after the stop. When
// it runs out the stdio is cut as WaitDelay cuts it ([Options.WaitDelay]
// applies instead when it is shorter).
const StopWaitDelay = time.Second

// finish waits for the child's stdio to end, draining the pipes the user
// holds, within delay (0: no bound) or StopWaitDelay after a MaxBuffer
// overflow that comes later; then it cuts what is left.
func (s *stdioSet) finish(delay time.Duration) {
	for _, str := range s.borrowed {
		str.giveBack()
	}
	streams := s.streams()
	if len(streams) == 0 && len(s.copiers) == 0 && s.ch == nil && delay == 0 {
		s.ins.Wait()
		return
	}
	drains := drain(streams)
	if delay == 0 && s.overflowed == nil {
		s.awaitIO(drains)
		return
	}
	if !s.awaitWithin(drains, delay) {
		s.cutStdio(drains)
	}
}

// drain drains each stream in a goroutine of its own, but those at their
// end already.
func drain(streams []*stream) *sync.WaitGroup {
	var drains sync.WaitGroup
	for _, str := range streams {
		if str.drainNow() {
			continue
		}
		drains.Add(1)
		go func() {
			defer drains.Done()
			str.drain()
		}()
	}
	return &drains
}

// awaitWithin waits for the stdio to end, for at most delay (0: no
// bound) or StopWaitDelay after a MaxBuffer overflow that comes later.
// It reports whether the stdio ended in time.
func (s *stdioSet) awaitWithin(drains *sync.WaitGroup, delay time.Duration) bool {
	all := make(chan struct{})
	go func() {
		s.awaitIO(drains)
		close(all)
	}()
	var expired <-chan time.Time
	if delay > 0 {
		t := time.NewTimer(delay)
		defer t.Stop()
		expired = t.C
	}
	overflowed := s.overflowed
	for {
		select {
		case <-all:
			return true
		case <-expired:
			return false
		case <-overflowed:
			overflowed = nil
			if expired == nil {
				t := time.NewTimer(StopWaitDelay)
				defer t.Stop()
				expired = t.C
			}
		}
	}
}

// awaitIO waits for every stdio of the child to end.
func (s *stdioSet) awaitIO(drains *sync.WaitGroup) {
	drains.Wait()
	for _, cp := range s.copiers {
		<-cp.done
	}
	s.ins.Wait()
	if s.ch != nil {
		<-s.ch.Disconnected()
	}
}

// cutStdio ends the child's stdio at once, as WaitDelay does: what the
// pipes hold is read without waiting and delivered, then they are closed,
// and so is the IPC channel. Drains and output copiers end once their
// pipes are cut; a copier blocked in a caller's io.Writer or io.Reader
// cannot be interrupted and is left to finish on its own, as in os/exec.
func (s *stdioSet) cutStdio(drains *sync.WaitGroup) {
	s.cutIO = true
	for _, str := range s.streams() {
		str.cutOff()
	}
	for _, cp := range s.copiers {
		cp.cutOff()
	}
	if s.ch != nil {
		s.ch.Close()
	}
	drains.Wait()
	for _, cp := range s.copiers {
		cp.awaitCut()
	}
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
