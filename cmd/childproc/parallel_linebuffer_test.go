//go:build linux

package main

import (
	"bufio"
	"bytes"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestParallelLineBufferLongLine: --line-buffer passes a line with no
// newline on in pieces, so childproc's memory stays bounded while a job
// prints 100 MiB of it; every byte comes through.
func TestParallelLineBufferLongLine(t *testing.T) {
	const size = 100 << 20
	var n int64
	var nonzero bool
	rss := peakRSS(t, []string{"parallel", "--line-buffer", "head -c {} /dev/zero", ":::", "104857600"}, func(out io.Reader) {
		buf := make([]byte, 64<<10)
		for {
			k, err := out.Read(buf)
			n += int64(k)
			nonzero = nonzero || bytes.ContainsFunc(buf[:k], func(r rune) bool { return r != 0 })
			if err != nil {
				return
			}
		}
	})
	if n != size || nonzero {
		t.Errorf("%d bytes of output (nonzero %v), want %d zero bytes", n, nonzero, size)
	}
	if rss == 0 || rss > 80<<20 {
		t.Errorf("peak RSS %d MiB while a job printed a 100 MiB line", rss>>20)
	}
	t.Logf("peak RSS %.1f MiB", float64(rss)/(1<<20))
}

// TestParallelLineBufferLongLineTag: a line passed on in pieces has the
// tag once, at its start, and the lines after it have theirs.
func TestParallelLineBufferLongLineTag(t *testing.T) {
	r := parallel(t, "", "--line-buffer", "--tag", "head -c 3000000 /dev/zero | tr '\\0' x; echo; echo end; printf tail", ":::", "a")
	want := "a\t" + strings.Repeat("x", 3000000) + "\na\tend\na\ttail"
	if r.stdout != want || r.code != 0 {
		t.Errorf("stdout of %d bytes (exit %d, stderr %q), want the tagged lines, %d bytes: starts %.40q, ends %q",
			len(r.stdout), r.code, r.stderr, len(want), r.stdout, r.stdout[max(0, len(r.stdout)-20):])
	}
}

// peakRSS runs the childproc binary with args, hands its stdout to read,
// and returns its peak RSS. VmHWM is the peak RSS of childproc's own
// memory since its exec (the rusage of a child counts its parent's memory
// too, which Go shares with it until the exec); it only grows, so the
// last value read is close to the peak.
func peakRSS(t *testing.T, args []string, read func(io.Reader)) int64 {
	t.Helper()
	cmd := exec.Command(buildChildproc(t), args...)
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var rss int64
	stop := make(chan struct{})
	polled := make(chan struct{})
	go func() {
		defer close(polled)
		for {
			if v := vmHWM(cmd.Process.Pid); v > 0 {
				rss = v
			}
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	read(bufio.NewReader(out))
	close(stop)
	<-polled
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	return rss
}
