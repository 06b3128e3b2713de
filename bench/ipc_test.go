//go:build linux

package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/childproc/childproc"
	"github.com/childproc/childproc/ipc"
)

// The entries the IPC benchmarks fork.
var (
	echoEntry = childproc.RegisterEntry("bench-echo", func(ctx context.Context, ch *ipc.Channel, _ []string) error {
		for {
			m, err := ch.Recv(ctx)
			if err != nil {
				return nil
			}
			if err := ch.Send(json.RawMessage(m.Bytes())); err != nil {
				return nil
			}
		}
	})
	sinkEntry = childproc.RegisterEntry("bench-sink", func(ctx context.Context, ch *ipc.Channel, _ []string) error {
		for {
			m, err := ch.Recv(ctx)
			if err != nil {
				return nil
			}
			if bytes.HasPrefix(m.Bytes(), []byte(`{"last":`)) {
				ch.Send("done")
			}
		}
	})
)

type rtMsg struct {
	I int `json:"i"`
}

// BenchmarkIPCRoundTrip: sequential round trips of {"i":n} between a Go
// parent and a Go entry-point child (childproc), against a plain
// socketpair carrying newline-delimited JSON to a child that echoes lines
// (raw: no library, the same encoding work in the parent).
func BenchmarkIPCRoundTrip(b *testing.B) {
	b.Run("childproc", func(b *testing.B) {
		c, err := childproc.ForkEntry(context.Background(), echoEntry, nil, nil)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Wait()
		defer c.Disconnect()
		roundTrips(b, c)
	})
	b.Run("raw", func(b *testing.B) {
		conn, cmd := startRawEcho(b)
		defer cmd.Wait()
		defer conn.Close()
		r := bufio.NewReader(conn)
		i := 0
		for b.Loop() {
			line, _ := json.Marshal(rtMsg{I: i})
			if _, err := conn.Write(append(line, '\n')); err != nil {
				b.Fatal(err)
			}
			back, err := r.ReadBytes('\n')
			if err != nil {
				b.Fatal(err)
			}
			var m rtMsg
			if err := json.Unmarshal(back, &m); err != nil || m.I != i {
				b.Fatalf("%v %v", m, err)
			}
			i++
		}
	})
}

type streamMsg struct {
	K int    `json:"k"`
	P string `json:"p"`
}

// BenchmarkIPCStream: one-way messages carrying a 1 KiB string, parent to
// child, honouring back-pressure (Send blocks while the channel is full);
// the child acknowledges the last one. Bytes/op is the payload.
func BenchmarkIPCStream(b *testing.B) {
	c, err := childproc.ForkEntry(context.Background(), sinkEntry, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Wait()
	defer c.Disconnect()
	payload := strings.Repeat("x", 1024)
	oneWay(b, c, 1024, func(k int) any { return streamMsg{K: k, P: payload} })
}

// BenchmarkIPCPipelined: round trips with a window of 64 messages in
// flight (bench/node_ipc_pipelined.js is the Node peer), the shape of a
// worker pool's traffic.
func BenchmarkIPCPipelined(b *testing.B) {
	c, err := childproc.ForkEntry(context.Background(), echoEntry, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Wait()
	defer c.Disconnect()
	cpu0 := selfCPU()
	pipelined(b, c)
	b.StopTimer()
	reportCPU(b, c, selfCPU()-cpu0)
}

// selfCPU returns the CPU time this process has used so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU ends the child c and reports the CPU time per operation of
// the parent (parent, measured by the caller) and of c.
func reportCPU(b *testing.B, c *childproc.Child, parent time.Duration) {
	c.Disconnect()
	c.Wait()
	b.ReportMetric(float64(parent.Nanoseconds())/float64(b.N), "parent-cpu-ns/op")
	if ru := c.Rusage(); ru != nil {
		b.ReportMetric(float64((ru.UserTime+ru.SystemTime).Nanoseconds())/float64(b.N), "child-cpu-ns/op")
	}
}

type taskMsg struct {
	G int `json:"g"`
	I int `json:"i"`
}

// BenchmarkIPCPipelinedParallel: the traffic of a worker pool's Do calls
// to one worker. g goroutines each send a request (a json.RawMessage, as
// the pool sends), wait for its answer and send the next, while one
// goroutine receives the answers and hands each to its sender: g round
// trips in flight, with many senders. ns/op is per round trip.
func BenchmarkIPCPipelinedParallel(b *testing.B) {
	for _, g := range []int{8, 64} {
		b.Run(fmt.Sprintf("g=%d", g), func(b *testing.B) { pipelinedParallel(b, g) })
	}
}

func pipelinedParallel(b *testing.B, g int) {
	c, err := childproc.ForkEntry(context.Background(), echoEntry, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Wait()
	defer c.Disconnect()
	answers := make([]chan int, g)
	for k := range answers {
		answers[k] = make(chan int, 1)
	}
	var next atomic.Int64 // round trips started
	n := int64(b.N)
	errc := make(chan error, g)
	cpu0 := selfCPU()
	b.ResetTimer()
	for k := range g {
		go func() {
			for i := next.Add(1); i <= n; i = next.Add(1) {
				req, _ := json.Marshal(taskMsg{G: k, I: int(i)})
				if err := c.Send(json.RawMessage(req)); err != nil {
					errc <- err
					return
				}
				if got := <-answers[k]; got != int(i) {
					errc <- fmt.Errorf("sender %d: answer %d to request %d", k, got, i)
					return
				}
			}
			errc <- nil
		}()
	}
	ctx := context.Background()
	for range n {
		m, err := c.Recv(ctx)
		if err != nil {
			b.Fatal(err)
		}
		var t taskMsg
		if err := m.Decode(&t); err != nil {
			b.Fatal(err)
		}
		answers[t.G] <- t.I
	}
	for range g {
		if err := <-errc; err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	reportCPU(b, c, selfCPU()-cpu0)
}

const rawEchoEnv = "CHILDPROC_BENCH_RAW_ECHO"

// startRawEcho runs this binary as the raw echo peer on a socketpair.
func startRawEcho(b *testing.B) (*os.File, *exec.Cmd) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		b.Fatal(err)
	}
	ours, theirs := os.NewFile(uintptr(fds[0]), "raw"), os.NewFile(uintptr(fds[1]), "raw")
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), rawEchoEnv+"=1")
	cmd.ExtraFiles = []*os.File{theirs}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	theirs.Close()
	return ours, cmd
}

// rawEcho echoes newline-delimited lines on fd 3 until EOF.
func rawEcho() int {
	f := os.NewFile(3, "raw")
	r := bufio.NewReader(f)
	for {
		line, err := r.ReadBytes('\n')
		if err != nil {
			return 0
		}
		if _, err := f.Write(line); err != nil {
			return 0
		}
	}
}
