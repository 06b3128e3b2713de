//go:build linux

package ipc_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"strings"
	"testing"

	"github.com/childproc/childproc/ipc"
)

type rtMsg struct {
	I int `json:"i"`
}

// channelPair returns two Channels on the ends of one socketpair.
func channelPair(b testing.TB) (*ipc.Channel, *ipc.Channel) {
	ours, theirs := socketPair(b)
	a, err := ipc.NewFile(ours, nil)
	if err != nil {
		b.Fatal(err)
	}
	z, err := ipc.NewFile(theirs, nil)
	if err != nil {
		b.Fatal(err)
	}
	return a, z
}

// connPair returns the two ends of one socketpair as plain connections.
func connPair(b *testing.B) (net.Conn, net.Conn) {
	ours, theirs := socketPair(b)
	defer ours.Close()
	defer theirs.Close()
	a, err := net.FileConn(ours)
	if err != nil {
		b.Fatal(err)
	}
	z, err := net.FileConn(theirs)
	if err != nil {
		b.Fatal(err)
	}
	return a, z
}

// BenchmarkRoundTrip measures sequential round trips of {"i":n} between
// two Channels over a socketpair, the far one echoing from a goroutine;
// "raw" is the baseline: the same socketpair carrying newline-delimited
// JSON with no library (json.Marshal, one write, bufio, json.Unmarshal).
//
//	go test -run='^$' -bench='RoundTrip|Stream' -benchtime=2s ./ipc/
func BenchmarkRoundTrip(b *testing.B) {
	b.Run("ipc", func(b *testing.B) {
		a, z := channelPair(b)
		defer a.Close()
		go func() {
			defer z.Close()
			for {
				m, err := z.Recv(context.Background())
				if err != nil {
					return
				}
				if z.Send(json.RawMessage(m.Bytes())) != nil {
					return
				}
			}
		}()
		ctx := context.Background()
		i := 0
		for b.Loop() {
			if err := a.Send(rtMsg{I: i}); err != nil {
				b.Fatal(err)
			}
			m, err := a.Recv(ctx)
			if err != nil {
				b.Fatal(err)
			}
			var back rtMsg
			if err := m.Decode(&back); err != nil || back.I != i {
				b.Fatalf("got %+v (%v), want %d", back, err, i)
			}
			i++
		}
	})
	b.Run("raw", func(b *testing.B) {
		a, z := connPair(b)
		defer a.Close()
		go func() {
			defer z.Close()
			r := bufio.NewReader(z)
			for {
				line, err := r.ReadSlice('\n')
				if err != nil {
					return
				}
				if _, err := z.Write(line); err != nil {
					return
				}
			}
		}()
		r := bufio.NewReader(a)
		i := 0
		for b.Loop() {
			line, _ := json.Marshal(rtMsg{I: i})
			if _, err := a.Write(append(line, '\n')); err != nil {
				b.Fatal(err)
			}
			back, err := r.ReadSlice('\n')
			if err != nil {
				b.Fatal(err)
			}
			var m rtMsg
			if err := json.Unmarshal(back, &m); err != nil || m.I != i {
				b.Fatalf("got %+v (%v), want %d", m, err, i)
			}
			i++
		}
	})
}

// BenchmarkStream measures one-way messages, each a 1 KiB string, from
// one Channel to another whose goroutine receives them, honouring
// back-pressure (Send blocks while the channel is full). Bytes/op is the
// payload, as in Node's figure for the same shape (about 320 MiB/s on
// this machine: ../shared/node-child-process.md §5.2 (c)). "struct"
// sends {"k":n,"p":<1 KiB>} instead, through encoding/json.
func BenchmarkStream(b *testing.B) {
	payload := strings.Repeat("x", 1024)
	b.Run("string", func(b *testing.B) {
		stream(b, func(int) any { return payload })
	})
	b.Run("struct", func(b *testing.B) {
		type msg struct {
			K int    `json:"k"`
			P string `json:"p"`
		}
		stream(b, func(k int) any { return msg{K: k, P: payload} })
	})
}

func stream(b *testing.B, next func(k int) any) {
	a, z := channelPair(b)
	done := make(chan int)
	go func() {
		n := 0
		for {
			if _, err := z.Recv(context.Background()); err != nil {
				z.Close()
				done <- n
				return
			}
			n++
		}
	}()
	b.SetBytes(1024)
	k := 0
	for b.Loop() {
		if err := a.Send(next(k)); err != nil {
			b.Fatal(err)
		}
		k++
	}
	a.Close()
	if n := <-done; n != k {
		b.Fatalf("received %d of %d", n, k)
	}
}
