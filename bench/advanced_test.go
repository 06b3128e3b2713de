//go:build linux

package bench

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/childproc/childproc"
	"github.com/childproc/childproc/ipc"
)

// Entries that work in either serialization: an echo that sends back
// each message's bytes as they came, and a sink that decodes every
// message and answers the one marked last.
var (
	echoAnyEntry = childproc.RegisterEntry("bench-echo-any", func(ctx context.Context, ch *ipc.Channel, _ []string) error {
		for {
			m, err := ch.Recv(ctx)
			if err != nil {
				return nil
			}
			if err := ch.Send(asIs(ch, m)); err != nil {
				return nil
			}
		}
	})
	sinkAnyEntry = childproc.RegisterEntry("bench-sink-any", func(ctx context.Context, ch *ipc.Channel, _ []string) error {
		for {
			m, err := ch.Recv(ctx)
			if err != nil {
				return nil
			}
			var last struct {
				Last bool `json:"last"`
			}
			if err := m.Decode(&last); err != nil {
				return err
			}
			if last.Last {
				ch.Send("done")
			}
		}
	})
)

// asIs is a message to send back as it came, in the channel's
// serialization.
func asIs(ch *ipc.Channel, m ipc.Message) any {
	if ch.Codec() == ipc.Advanced {
		return ipc.RawValue(m.Bytes())
	}
	return json.RawMessage(m.Bytes())
}

var modes = []string{"json", "advanced"}

func forkIn(b *testing.B, mode, entry string) *childproc.Child {
	c, err := childproc.ForkEntry(context.Background(), entry, nil, &childproc.Options{Serialization: mode})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Disconnect(); c.Wait() })
	return c
}

// BenchmarkIPCModes runs the IPC benchmarks in both serializations, with
// the same payloads and mode-neutral children, for Go advanced vs Go
// JSON, and against node_ipc_parent.js … advanced:
//
//	rtt        sequential round trips of {i: n}
//	stream     one-way {k, p: 1 KiB string}; the child decodes each
//	pipelined  round trips of {i: n} with 64 in flight
//	bytes      one-way {k, data: 64 KiB of binary}; a Buffer in advanced
//	           mode, base64 text in JSON
func BenchmarkIPCModes(b *testing.B) {
	for _, mode := range modes {
		b.Run("rtt/"+mode, func(b *testing.B) { roundTrips(b, forkIn(b, mode, echoAnyEntry)) })
		b.Run("stream/"+mode, func(b *testing.B) {
			payload := strings.Repeat("x", 1024)
			oneWay(b, forkIn(b, mode, sinkAnyEntry), 1024, func(k int) any { return streamMsg{K: k, P: payload} })
		})
		b.Run("pipelined/"+mode, func(b *testing.B) { pipelined(b, forkIn(b, mode, echoAnyEntry)) })
		b.Run("bytes/"+mode, func(b *testing.B) {
			data := make([]byte, 64<<10)
			for i := range data {
				data[i] = byte(i * 7)
			}
			oneWay(b, forkIn(b, mode, sinkAnyEntry), len(data), func(k int) any { return bytesMsg{K: k, Data: data} })
		})
	}
}

type bytesMsg struct {
	K    int    `json:"k"`
	Data []byte `json:"data"`
}

func roundTrips(b *testing.B, c *childproc.Child) {
	ctx := context.Background()
	i := 0
	for b.Loop() {
		roundTrip(ctx, b, c, i)
		i++
	}
}

// roundTrip sends {"i":i} to c and checks that it comes back.
func roundTrip(ctx context.Context, b *testing.B, c *childproc.Child, i int) {
	if err := c.Send(rtMsg{I: i}); err != nil {
		b.Fatal(err)
	}
	m, err := c.Recv(ctx)
	if err != nil {
		b.Fatal(err)
	}
	var back rtMsg
	if err := m.Decode(&back); err != nil || back.I != i {
		b.Fatalf("%v %v", back, err)
	}
}

// oneWay sends msg(k) for every iteration, then a last message, and
// waits for the child's answer to it. Bytes/op is size.
func oneWay(b *testing.B, c *childproc.Child, size int, msg func(k int) any) {
	b.SetBytes(int64(size))
	k := 0
	for b.Loop() {
		if err := c.Send(msg(k)); err != nil {
			b.Fatal(err)
		}
		k++
	}
	c.Send(map[string]bool{"last": true})
	if _, err := c.Recv(context.Background()); err != nil {
		b.Fatal(err)
	}
}

func pipelined(b *testing.B, c *childproc.Child) {
	const window = 64
	ctx := context.Background()
	n := b.N
	slots := make(chan struct{}, window)
	errc := make(chan error, 1)
	b.ResetTimer()
	go func() {
		for i := 0; i < n; i++ {
			slots <- struct{}{}
			if err := c.Send(rtMsg{I: i}); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	for i := 0; i < n; i++ {
		m, err := c.Recv(ctx)
		if err != nil {
			b.Fatal(err)
		}
		<-slots
		var back rtMsg
		if err := m.Decode(&back); err != nil || back.I != i {
			b.Fatalf("%v %v", back, err)
		}
	}
	if err := <-errc; err != nil {
		b.Fatal(err)
	}
}
