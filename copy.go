package childproc

import (
	"errors"
	"io"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/childproc/childproc/internal/fdio"
)

// copyReport is told why a copy between the child and an io.Reader or
// io.Writer entry stopped early: the Child, which records it for Wait.
type copyReport interface {
	maxBufferExceeded(name string)
	copyFailed(what string, err error)
}

// copyIn copies an io.Reader entry into the child, then closes the pipe so
// the child reads EOF. A child that stops reading ends the copy (EPIPE),
// as in os/exec; an error from the Reader is what Wait returns (when the
// child succeeded).
func copyIn(w *os.File, src io.Reader, report copyReport) {
	defer w.Close()
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	buf := *bp
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				if !childStoppedReading(werr) {
					report.copyFailed("copying to the child's stdin", werr)
				}
				return
			}
		}
		if err == io.EOF {
			return
		}
		if err != nil {
			report.copyFailed("reading the child's stdin", err)
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
	name    string // the stdio name, for errors
	report  copyReport
	cut     atomic.Bool // the stdio is being cut
	writing atomic.Bool // inside dst.Write
	done    chan struct{}
}

// run copies until the pipe ends, the Writer fails, or the
// stdio is cut (it then delivers what the pipe holds and stops).
func (cp *copier) run() {
	defer close(cp.done)
	defer cp.r.Close()
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	buf := *bp
	for {
		n, err := cp.r.Read(buf)
		if !cp.deliver(buf[:n]) {
			return
		}
		if cp.cut.Load() && errors.Is(err, os.ErrDeadlineExceeded) {
			cp.deliverRest(buf)
			return
		}
		if err != nil {
			return
		}
	}
}

// deliver writes b to the copier's Writer; false when the copy must stop.
func (cp *copier) deliver(b []byte) bool {
	if len(b) == 0 {
		return true
	}
	cp.writing.Store(true)
	_, err := cp.dst.Write(b)
	cp.writing.Store(false)
	switch {
	case err == ErrMaxBuffer:
		cp.report.maxBufferExceeded(cp.name)
	case err != nil:
		cp.report.copyFailed("copying the child's "+cp.name, err)
	}
	return err == nil
}

// deliverRest delivers what the pipe holds once the stdio is cut, without
// waiting for more.
func (cp *copier) deliverRest(buf []byte) {
	if cp.r.SetReadDeadline(time.Time{}) != nil {
		return
	}
	for range drainNowReads {
		n, err := fdio.ReadNow(cp.r, buf)
		if err != nil || !cp.deliver(buf[:n]) {
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
