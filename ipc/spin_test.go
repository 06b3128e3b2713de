//go:build unix

package ipc_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"strconv"
	"testing"
	"time"

	"github.com/childproc/childproc/ipc"
)

// echoLines answers each line the channel sends with the same line, after
// delay(i) for the i-th.
func echoLines(peer io.ReadWriter, delay func(i int) time.Duration) {
	r := bufio.NewReader(peer)
	for i := 0; ; i++ {
		line, err := r.ReadBytes('\n')
		if err != nil {
			return
		}
		time.Sleep(delay(i))
		if _, err := peer.Write(line); err != nil {
			return
		}
	}
}

// Round trips arrive whole and in order whether the answers come at once
// (Recv spins) or late (Recv gives up spinning, then takes it up again),
// with spinning on and off.
func TestSpinRoundTrips(t *testing.T) {
	for _, spin := range []time.Duration{0, -1, time.Millisecond} {
		t.Run(strconv.Itoa(int(spin)), func(t *testing.T) {
			ch, peer := rawPeer(t, &ipc.Options{SpinWait: spin})
			go echoLines(peer, func(i int) time.Duration {
				if i%10 == 5 {
					return 3 * time.Millisecond
				}
				return 0
			})
			ctx := context.Background()
			for i := range 200 {
				if err := ch.Send(i); err != nil {
					t.Fatal(err)
				}
				m, err := ch.Recv(ctx)
				if err != nil {
					t.Fatal(err)
				}
				var got int
				if err := m.Decode(&got); err != nil || got != i {
					t.Fatalf("round trip %d: got %s (%v)", i, m, err)
				}
			}
		})
	}
}

// A Recv spinning for an answer that never comes still honours its
// context, and the channel stays usable.
func TestRecvCancelledWhileSpinning(t *testing.T) {
	ch, peer := rawPeer(t, &ipc.Options{SpinWait: 50 * time.Millisecond})
	if err := ch.Send("ping"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := ch.Recv(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Recv: %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Recv took %v to notice its context", d)
	}
	peer.WriteString("\"late\"\n")
	if m := recv(t, ch); m.String() != `"late"` {
		t.Fatalf("got %s", m)
	}
}

// Close ends a Recv that is spinning for an answer.
func TestCloseWhileSpinning(t *testing.T) {
	ch, _ := rawPeer(t, &ipc.Options{SpinWait: time.Second})
	if err := ch.Send("ping"); err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := ch.Recv(context.Background())
		errc <- err
	}()
	time.Sleep(10 * time.Millisecond)
	ch.Close()
	select {
	case err := <-errc:
		if !errors.Is(err, io.EOF) {
			t.Fatalf("Recv after Close: %v, want EOF", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Recv kept spinning after Close")
	}
}
