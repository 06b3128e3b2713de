//go:build unix

package ipc_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/childproc/childproc/ipc"
)

// Frames sent with Send and SendBatched from one goroutine arrive in the
// order sent, and those sent with SendBatched from many goroutines all
// arrive, whole and in each sender's order; after Close, SendBatched
// returns ErrClosed.
func TestSendBatchedKeepsOrder(t *testing.T) {
	defer noLeaks(t)()
	ch, theirs := bareChannel(t)
	peer, err := ipc.NewFile(theirs, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	const n, senders = 2000, 8
	go func() {
		for i := range n {
			var err error
			if i%3 == 0 {
				err = ch.Send(i)
			} else {
				err = ch.SendBatched(context.Background(), i)
			}
			if err != nil {
				t.Errorf("sending %d: %v", i, err)
				return
			}
		}
		var wg sync.WaitGroup
		for g := range senders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range n {
					if err := ch.SendBatched(context.Background(), map[string]int{"g": g, "i": i}); err != nil {
						t.Errorf("sender %d, message %d: %v", g, i, err)
						return
					}
				}
			}()
		}
		wg.Wait()
		ch.Close()
		if err := ch.SendBatched(context.Background(), 1); !errors.Is(err, ipc.ErrClosed) {
			t.Errorf("SendBatched after Close: %v, want ErrClosed", err)
		}
		if err := ch.SendBatched(context.Background(), func() {}); !errors.Is(err, ipc.ErrNotSerializable) {
			t.Errorf("SendBatched of a func: %v, want ErrNotSerializable", err)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for i := range n {
		m, err := peer.Recv(ctx)
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		var got int
		if err := m.Decode(&got); err != nil || got != i {
			t.Fatalf("message %d: %s (%v)", i, m.Bytes(), err)
		}
	}
	next := make([]int, senders)
	for range n * senders {
		m, err := peer.Recv(ctx)
		if err != nil {
			t.Fatalf("after %v of the senders' messages: %v", next, err)
		}
		var got struct{ G, I int }
		if err := m.Decode(&got); err != nil || got.G < 0 || got.G >= senders || got.I != next[got.G] {
			t.Fatalf("%s: want message %v of its sender (%v)", m.Bytes(), next, err)
		}
		next[got.G]++
	}
}

// Frames sent from one goroutine with Send (held, as answers to messages
// still waiting, or written), SendBatched and SendHandle arrive in the
// order of the calls, while the channel's reader writes protocol answers
// (NODE_HANDLE_ACK) for the handles the peer sends meanwhile.
func TestSendBatchedOrderWithHandlesAndHolds(t *testing.T) {
	defer noLeaks(t)()
	ch, theirs := bareChannel(t)
	peer, err := ipc.NewFile(theirs, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	const rounds, burst = 300, 4
	go func() { // the peer: bursts of messages, a handle now and then
		for i := range rounds {
			for range burst {
				if err := peer.Send(i); err != nil {
					t.Errorf("peer: %v", err)
					return
				}
			}
			if i%10 == 0 {
				if err := peer.SendHandle("h", w); err != nil {
					t.Errorf("peer's handle: %v", err)
					return
				}
			}
		}
	}()
	sent := make(chan error, 1)
	go func() {
		defer close(sent)
		seq := 0
		for i := range rounds*burst + rounds/10 { // the peer's messages and handles
			m, err := ch.Recv(context.Background())
			if err != nil {
				sent <- err
				return
			}
			if f := m.File(); f != nil {
				f.Close()
			}
			if i >= rounds*burst {
				continue // all sent
			}
			for _, send := range []func() error{
				func() error { return ch.Send(seq) },
				func() error { return ch.SendBatched(context.Background(), seq) },
				func() error {
					if seq%13 == 0 {
						return ch.SendHandle(seq, r)
					}
					return ch.SendBatched(context.Background(), seq)
				},
			} {
				if err := send(); err != nil {
					sent <- err
					return
				}
				seq++
			}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for want := range rounds * burst * 3 {
		m, err := peer.Recv(ctx)
		if err != nil {
			t.Fatalf("message %d: %v", want, err)
		}
		var got int
		if err := m.Decode(&got); err != nil || got != want {
			t.Fatalf("message %d: %s (%v)", want, m.Bytes(), err)
		}
		if f := m.File(); (f != nil) != (want%3 == 2 && want%13 == 0) {
			t.Fatalf("message %d: handle %v", want, f)
		} else if f != nil {
			f.Close()
		}
	}
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	ch.Close()
	peer.Close()
}

// Close of a channel whose peer reads nothing returns within its bound
// (5 s to flush), while SendBatched calls wait for room: they return
// ErrClosed, and nothing is left behind.
func TestCloseEndsSendBatchedWaitingForRoom(t *testing.T) {
	defer noLeaks(t)()
	ch, theirs := bareChannel(t)
	defer theirs.Close()
	payload := strings.Repeat("x", 4096)
	const senders = 4
	errs := make(chan error, senders)
	for range senders {
		go func() {
			for {
				if err := ch.SendBatched(context.Background(), payload); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	time.Sleep(300 * time.Millisecond) // the socket and HighWater fill
	start := time.Now()
	ch.Close()
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("Close took %v", d)
	}
	for range senders {
		select {
		case err := <-errs:
			if !errors.Is(err, ipc.ErrClosed) {
				t.Errorf("SendBatched after Close: %v, want ErrClosed", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("SendBatched still waits 10 s after Close")
		}
	}
}
