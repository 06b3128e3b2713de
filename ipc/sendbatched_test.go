//go:build unix

package ipc_test

import (
	"context"
	"errors"
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
