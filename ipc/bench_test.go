//go:build unix

package ipc_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
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

// BenchmarkRecvPeakRSS measures the peak RSS (VmHWM) of a process that
// receives one line with the default Options (testdata/recvmem), against
// what it keeps: a line over MaxMessageSize (1 GiB against 64 MiB),
// which is refused and keeps nothing, and a valid 60 MiB message, an
// object holding one string, plain or with escapes throughout. extra-MiB is the peak less the RSS before
// the line came; extra/MiB-kept is that per MiB kept (per MiB of the
// limit for the refused line); after-MiB is the RSS once Recv returned,
// less the RSS before.
//
//	go test -run='^$' -bench=RecvPeakRSS -benchtime=1x ./ipc/
func BenchmarkRecvPeakRSS(b *testing.B) {
	path := filepath.Join(b.TempDir(), "recvmem")
	if out, err := exec.Command("go", "build", "-o", path, "./testdata/recvmem").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	const mib = 1 << 20
	cases := []struct {
		name  string
		unit  string // repeated to make the line's body
		size  int    // bytes of the body
		limit bool   // the line is over MaxMessageSize
	}{
		{"1GiB-over-limit", "x", 1 << 30, true},
		{"60MiB", "x", 60 * mib, false},
		{"60MiB-escaped", `a\"b\n`, 60 * mib, false},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			var extra, after, kept float64
			for b.Loop() {
				extra, after, kept = recvPeak(b, path, c.unit, c.size)
			}
			if c.limit {
				kept = ipc.DefaultMaxMessageSize
			}
			b.ReportMetric(extra/mib, "extra-MiB")
			b.ReportMetric(extra/kept, "extra/MiB-kept")
			b.ReportMetric(after/mib, "after-MiB")
		})
	}
}

// recvPeak runs recvmem, writes it one line, an object whose one string
// holds size bytes of unit repeated, and returns how much its RSS grew at
// its peak and once Recv returned, and how many bytes it kept.
func recvPeak(b *testing.B, path, unit string, size int) (extra, after, kept float64) {
	ours, theirs := socketPair(b)
	defer ours.Close()
	cmd := exec.Command(path)
	cmd.ExtraFiles = []*os.File{theirs}
	cmd.Env = append(os.Environ(), "NODE_CHANNEL_FD=3")
	cmd.Stderr = os.Stderr
	var out strings.Builder
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	theirs.Close()
	if line, err := bufio.NewReader(ours).ReadString('\n'); err != nil || line != "\"ready\"\n" {
		b.Fatalf("recvmem said %q (%v)", line, err)
	}
	chunk := []byte(strings.Repeat(unit, (1<<20)/len(unit)))
	ours.WriteString(`{"d":"`)
	for n := 0; n < size; n += len(chunk) {
		if _, err := ours.Write(chunk[:min(len(chunk), size-n)]); err != nil {
			break // refused: the receiver closed the channel
		}
	}
	ours.WriteString("\"}\n")
	if err := cmd.Wait(); err != nil {
		b.Fatalf("recvmem: %v", err)
	}
	var k, rss0, hwm, rss1 int
	var rerr string
	if _, err := fmt.Sscanf(out.String(), "kept=%d err=%q rss0=%d hwm=%d rss1=%d", &k, &rerr, &rss0, &hwm, &rss1); err != nil {
		b.Fatalf("recvmem printed %q: %v", out.String(), err)
	}
	return float64(hwm-rss0) * 1024, float64(rss1-rss0) * 1024, float64(k)
}
