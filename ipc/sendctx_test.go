//go:build unix

package ipc_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/childproc/childproc/ipc"
)

// SendContext and SendBatched give up when their ctx ends while the peer
// reads nothing and the socket and HighWater are full; the message given
// up on is not sent, and the channel still works once the peer reads
// again.
func TestSendContextBoundsTheWaitForRoom(t *testing.T) {
	sends := map[string]func(*ipc.Channel, context.Context, any) error{
		"SendContext": (*ipc.Channel).SendContext,
		"SendBatched": (*ipc.Channel).SendBatched,
	}
	for name, send := range sends {
		t.Run(name, func(t *testing.T) { boundsTheWaitForRoom(t, name, send) })
	}
}

func boundsTheWaitForRoom(t *testing.T, name string, send func(*ipc.Channel, context.Context, any) error) {
	defer noLeaks(t)()
	ch, theirs := bareChannel(t)
	defer theirs.Close()
	defer ch.Close()
	payload := strings.Repeat("x", 1024)
	var err error
	sent := 0
	for ; ; sent++ {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		err = send(ch, ctx, payload)
		cancel()
		if err != nil {
			break
		}
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("%s on a full channel: %v, want DeadlineExceeded", name, err)
	}
	if sent*1024 < ipc.HighWater {
		t.Errorf("%s gave up after %d KiB, before HighWater", name, sent)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := send(ch, ctx, payload); !errors.Is(err, context.Canceled) {
		t.Errorf("%s with a done ctx on a full channel: %v, want Canceled", name, err)
	}
	if !ch.Connected() {
		t.Fatalf("the channel closed after %s gave up", name)
	}
	// The peer reads: the messages sent arrive, and the ones given up on
	// do not.
	extra := make(chan error, 1)
	go func() { extra <- readAll(theirs, sent) }()
	select {
	case err := <-extra:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("the peer's Recv after the %d messages sent: %v, want nothing more (DeadlineExceeded)", sent, err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the peer did not read the messages within 20 s")
	}
}

// readAll reads n messages from a channel on f, then waits 300 ms for one
// more; the channel is closed before it returns.
func readAll(f *os.File, n int) error {
	peer, err := ipc.NewFile(f, nil)
	if err != nil {
		return err
	}
	defer peer.Close()
	for i := 0; i < n; i++ {
		if _, err := peer.Recv(context.Background()); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err = peer.Recv(ctx)
	return err
}
