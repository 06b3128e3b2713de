//go:build unix

package ipc

import (
	"context"
	"os"
	"runtime"
	"testing"
	"time"
)

// Spinning turns itself off after a wait that outlasted SpinWait and back
// on after a wait that would have fitted in it.
func TestSpinAdapts(t *testing.T) {
	if runtime.GOMAXPROCS(0) == 1 {
		t.Skip("no spinning with GOMAXPROCS 1")
	}
	fds := SocketPair(t)
	peer := os.NewFile(uintptr(fds[1]), "peer")
	defer peer.Close()
	// Generous: a prompt answer must come within spin even on a loaded
	// machine, where waking the answering goroutine can take milliseconds.
	const spin = 100 * time.Millisecond
	ch, err := NewFile(os.NewFile(uintptr(fds[0]), "ours"), &Options{SpinWait: spin})
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	buf := make([]byte, 64)
	roundTrip := func(delay time.Duration) {
		t.Helper()
		if err := ch.Send(1); err != nil {
			t.Fatal(err)
		}
		go func() {
			peer.Read(buf)
			time.Sleep(delay)
			peer.Write([]byte("2\n"))
		}()
		if _, err := ch.Recv(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	roundTrip(0)
	if ch.spinOff.Load() {
		t.Fatal("spinning off after a prompt answer")
	}
	roundTrip(10 * spin)
	if !ch.spinOff.Load() {
		t.Fatal("spinning still on after an answer that took 10x SpinWait")
	}
	roundTrip(10 * spin)
	if !ch.spinOff.Load() {
		t.Fatal("spinning back on after another slow answer")
	}
	roundTrip(0)
	if ch.spinOff.Load() {
		t.Fatal("spinning still off after a prompt answer")
	}
}
