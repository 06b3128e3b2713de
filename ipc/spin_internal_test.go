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

// A Recv that follows a SendBatched does not spin, even when the
// SendBatched came after a lone Send; one that follows a later lone Send
// does. A spin that outlasts SpinWait turns spinning off, which shows
// that it happened.
func TestNoSpinAfterSendBatched(t *testing.T) {
	if runtime.GOMAXPROCS(0) == 1 {
		t.Skip("no spinning with GOMAXPROCS 1")
	}
	fds := SocketPair(t)
	peer := os.NewFile(uintptr(fds[1]), "peer")
	defer peer.Close()
	const spin = 20 * time.Millisecond
	ch, err := NewFile(os.NewFile(uintptr(fds[0]), "ours"), &Options{SpinWait: spin})
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	buf := make([]byte, 64)
	slowAnswer := func(send func() error) {
		t.Helper()
		if err := send(); err != nil {
			t.Fatal(err)
		}
		go func() {
			peer.Read(buf)
			time.Sleep(5 * spin)
			peer.Write([]byte("2\n"))
		}()
		if _, err := ch.Recv(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	batched := func() error { return ch.SendBatched(context.Background(), 1) }
	loneThenBatched := func() error {
		if err := ch.Send(1); err != nil {
			return err
		}
		return batched()
	}
	slowAnswer(batched)
	slowAnswer(loneThenBatched)
	if ch.spinOff.Load() {
		t.Fatal("a Recv after SendBatched spun")
	}
	time.Sleep(time.Millisecond) // past batchGap: the Send writes at once
	slowAnswer(func() error { return ch.Send(1) })
	if !ch.spinOff.Load() {
		t.Fatal("a Recv after a lone Send did not spin")
	}
}
