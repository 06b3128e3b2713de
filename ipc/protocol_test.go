//go:build unix

package ipc_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/childproc/childproc/ipc"
)

// rawPeer gives a Channel on one end of a socketpair and the other end as
// a raw file the test writes bytes to.
func rawPeer(t *testing.T, opts *ipc.Options) (*ipc.Channel, *os.File) {
	t.Helper()
	ours, theirs := socketPair(t)
	ch, err := ipc.NewFile(ours, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ch.Close(); theirs.Close() })
	return ch, theirs
}

// collect receives until an error and returns the messages and the error.
func collect(t *testing.T, ch *ipc.Channel) ([]string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var got []string
	for {
		m, err := ch.Recv(ctx)
		if err != nil {
			return got, err
		}
		if m.File() != nil {
			m.File().Close()
		}
		got = append(got, m.String())
	}
}

// Bad bytes from the peer: the messages before them arrive, then a typed
// error; the channel is closed; nothing leaks.
func TestMalformedInput(t *testing.T) {
	defer goleak.VerifyNone(t)
	baseFds := countFds(t)
	cases := []struct {
		name  string
		input string
		max   int
		want  []string
		err   error // nil means a clean io.EOF
	}{
		{"valid then EOF", "{\"a\":1}\n\"s\"\r\n", 0, []string{`{"a":1}`, `"s"`}, nil},
		{"CRLF", "1\r\n[2, 3]\r\n\"\\r\"\r\n", 0, []string{"1", "[2, 3]", `"\r"`}, nil},
		{"a lone CR is malformed", "1\n\r\n", 0, []string{"1"}, ipc.ErrMalformed},
		{"invalid JSON", "{\"a\":1}\n{bad}\n\"never\"\n", 0, []string{`{"a":1}`}, ipc.ErrMalformed},
		{"empty line", "1\n\n2\n", 0, []string{"1"}, ipc.ErrMalformed},
		{"two values on a line", "1 2\n", 0, nil, ipc.ErrMalformed},
		{"truncated frame", "1\n{\"a\":", 0, []string{"1"}, ipc.ErrTruncated},
		{"too large", "1\n\"" + strings.Repeat("x", 2000) + "\"\n", 1024, []string{"1"}, ipc.ErrTooLarge},
		{"endless line", strings.Repeat("x", 5000), 1024, nil, ipc.ErrTooLarge},
		{"invalid UTF-8 inside a string is accepted, as Node does", "\"\xff\xfe\"\n", 0, []string{"\"\xff\xfe\""}, nil},
		{"internal messages are not delivered", "{\"cmd\":\"NODE_X\"}\n{\"cmd\":\"NODE_HANDLE_ACK\"}\n3\n", 0, []string{"3"}, nil},
		{"escapes spell internal messages too", "{\"cmd\":\"NODE\\u005fX\"}\n{\"\\u0063md\":\"NODE_Y\"}\n{\"cmd\":\"NODE\\u005f\",\"a\":\"\\n\"}\n", 0, []string{`{"cmd":"NODE\u005f","a":"\n"}`}, nil},
		{"NODE_HANDLE with no fd asks again", "{\"cmd\":\"NODE_HANDLE\",\"type\":\"net.Socket\",\"msg\":1}\n4\n", 0, []string{"4"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ch, peer := rawPeer(t, &ipc.Options{MaxMessageSize: tc.max})
			peer.WriteString(tc.input) // smaller than the socket buffer
			syscall.Shutdown(int(peer.Fd()), syscall.SHUT_WR)
			got, err := collect(t, ch)
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("messages %q, want %q", got, tc.want)
			}
			if tc.err == nil {
				if err != io.EOF {
					t.Errorf("error %v, want io.EOF", err)
				}
			} else {
				var pe *ipc.ProtocolError
				if !errors.As(err, &pe) || !errors.Is(err, tc.err) {
					t.Errorf("error %v, want a *ProtocolError wrapping %v", err, tc.err)
				}
			}
			select {
			case <-ch.Disconnected():
			case <-time.After(5 * time.Second):
				t.Fatal("channel not closed")
			}
			if ch.Connected() {
				t.Error("still connected")
			}
		})
	}
	if n := countFds(t); n != baseFds {
		t.Errorf("fds: %d, baseline %d", n, baseFds)
	}
}

// A NODE_HANDLE without its descriptor is answered with a NACK, as Node does.
func TestHandleWithoutFdIsNacked(t *testing.T) {
	_, peer := rawPeer(t, nil)
	peer.WriteString("{\"cmd\":\"NODE_HANDLE\",\"type\":\"net.Socket\",\"msg\":1}\n")
	peer.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 100)
	n, err := peer.Read(buf)
	if err != nil || string(buf[:n]) != "{\"cmd\":\"NODE_HANDLE_NACK\"}\n" {
		t.Fatalf("got %q %v", buf[:n], err)
	}
}

// A NODE_HANDLE of an unknown type, with a descriptor, is a protocol
// error, and the descriptor is closed.
func TestBogusHandleType(t *testing.T) {
	baseFds := countFds(t)
	ch, peer := rawPeer(t, nil)
	r, w, _ := os.Pipe()
	defer w.Close()
	rc, _ := peer.SyscallConn()
	rc.Control(func(fd uintptr) {
		syscall.Sendmsg(int(fd), []byte("{\"cmd\":\"NODE_HANDLE\",\"type\":\"bogus\",\"msg\":1}\n"), syscall.UnixRights(int(r.Fd())), nil, 0)
	})
	r.Close()
	_, err := collect(t, ch)
	if !errors.Is(err, ipc.ErrBadHandle) {
		t.Fatalf("error %v, want ErrBadHandle", err)
	}
	ch.Close()
	peer.Close()
	w.Close()
	if n := countFds(t); n > baseFds {
		t.Errorf("fds: %d, baseline %d (the received descriptor leaked?)", n, baseFds)
	}
}

// Values encoding/json cannot encode are refused before anything is sent.
func TestSendUnserializable(t *testing.T) {
	ch, _ := rawPeer(t, nil)
	for _, v := range []any{func() {}, make(chan int), map[bool]int{true: 1}} {
		if err := ch.Send(v); !errors.Is(err, ipc.ErrNotSerializable) {
			t.Errorf("Send(%T): %v", v, err)
		}
	}
	if err := ch.Send([]byte("raw")); err != nil { // a []byte is base64 JSON, as encoding/json has it
		t.Error(err)
	}
}

// A fast sender cannot grow the receiver's memory without bound: when
// the receiver does not read, Send blocks once the queue and the socket
// buffers are full.
func TestBackPressure(t *testing.T) {
	ch, peer := rawPeer(t, &ipc.Options{QueueLen: 16})
	sender, err := ipc.NewFile(peer, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sender.Close()
	payload := strings.Repeat("x", 1024)
	var sent atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 20000; i++ {
			if sender.Send(payload) != nil {
				return
			}
			sent.Add(1)
		}
	}()
	time.Sleep(500 * time.Millisecond)
	select {
	case <-done:
		t.Fatal("the sender never blocked")
	default:
	}
	// What is in flight is bounded by the queue, one read, the sender's
	// HighWater and the socket's send buffer (1 MiB asked, which Linux
	// doubles for its bookkeeping): about 2.3 MiB, not what the sender had.
	n := sent.Load()
	t.Logf("sender blocked after %d messages of 1 KiB", n)
	if n > 3000 {
		t.Errorf("%d messages in flight; want the queue and the socket buffers at most", n)
	}
	// Reading drains it all, in order.
	for i := 0; i < 20000; i++ {
		if got := recv(t, ch).Bytes(); len(got) != 1026 {
			t.Fatalf("message %d: %d bytes", i, len(got))
		}
	}
	<-done
}

// Handles are named by what their descriptor is, and arrive usable.
func TestHandleKinds(t *testing.T) {
	a, z := channelPair(t)
	defer a.Close()
	defer z.Close()
	tl, _ := net.Listen("tcp", "127.0.0.1:0")
	defer tl.Close()
	ul, _ := net.Listen("unix", "@ipc-test-"+strconv.Itoa(os.Getpid()))
	defer ul.Close()
	tc, _ := net.Dial("tcp", tl.Addr().String())
	defer tc.Close()
	uc, _ := net.ListenPacket("udp", "127.0.0.1:0")
	defer uc.Close()
	pr, pw, _ := os.Pipe()
	defer pr.Close()
	defer pw.Close()
	lf, _ := tl.(*net.TCPListener).File()
	defer lf.Close()
	cases := []struct {
		name string
		h    any
		want string
	}{
		{"tcp listener", tl, "net.Server"},
		{"unix listener", ul, "net.Server"},
		{"listener as *os.File", lf, "net.Server"},
		{"tcp conn", tc, "net.Socket"},
		{"udp conn", uc, "dgram.Native"},
		{"pipe", pr, "net.Native"},
	}
	for _, c := range cases {
		done := make(chan error, 1)
		go func() { done <- a.SendHandle(c.name, c.h) }()
		m := recv(t, z)
		if err := <-done; err != nil {
			t.Fatalf("%s: SendHandle: %v", c.name, err)
		}
		if m.String() != strconv.Quote(c.name) || m.HandleType() != c.want || m.File() == nil {
			t.Fatalf("%s: got %s type %q file %v, want type %q", c.name, m.Bytes(), m.HandleType(), m.File(), c.want)
		}
		var err error
		switch c.want {
		case "net.Server":
			var l net.Listener
			l, err = m.Listener()
			if err == nil {
				l.Close()
			}
		case "net.Socket":
			var conn net.Conn
			conn, err = m.Conn()
			if err == nil {
				conn.Close()
			}
		case "dgram.Native":
			var pc net.PacketConn
			pc, err = m.PacketConn()
			if err == nil {
				pc.Close()
			}
		default:
			pw.WriteString("through the pipe")
			buf := make([]byte, 16)
			_, err = io.ReadFull(m.File(), buf)
			m.File().Close()
		}
		if err != nil {
			t.Fatalf("%s: using the handle: %v", c.name, err)
		}
	}
	// A regular file is refused before anything is sent.
	f, err := os.CreateTemp(t.TempDir(), "regular")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := a.SendHandle("file", f); !errors.Is(err, ipc.ErrUnsupported) {
		t.Fatalf("SendHandle(regular file): %v, want ErrUnsupported", err)
	}
	if err := a.SendHandle("value", 42); !errors.Is(err, ipc.ErrUnsupported) {
		t.Fatalf("SendHandle(42): %v, want ErrUnsupported", err)
	}
	a.Send("next")
	if got := recv(t, z).String(); got != `"next"` {
		t.Fatalf("after the refused handles: %s", got)
	}
}

// A Recv waiting behind another one still honours its own context.
func TestConcurrentRecvCancel(t *testing.T) {
	ch, peer := rawPeer(t, nil)
	first := make(chan string)
	go func() {
		m, err := ch.Recv(context.Background())
		if err != nil {
			first <- err.Error()
			return
		}
		first <- m.String()
	}()
	time.Sleep(50 * time.Millisecond) // let the first Recv block in its read
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := ch.Recv(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second Recv: %v, want DeadlineExceeded", err)
	}
	peer.WriteString("\"for the first\"\n")
	select {
	case got := <-first:
		if got != `"for the first"` {
			t.Fatalf("first Recv: %s", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("first Recv did not return")
	}
}

// Descriptors that no NODE_HANDLE line claims are not hoarded.
func TestStrayDescriptorsBounded(t *testing.T) {
	base := countFds(t)
	ch, peer := rawPeer(t, nil)
	r, w, _ := os.Pipe()
	defer w.Close()
	rc, _ := peer.SyscallConn()
	const stray = 100
	for i := 0; i < stray; i++ {
		rc.Control(func(fd uintptr) {
			syscall.Sendmsg(int(fd), []byte("1\n"), syscall.UnixRights(int(r.Fd())), nil, 0)
		})
	}
	r.Close()
	for i := 0; i < stray; i++ {
		recv(t, ch)
	}
	if n := countFds(t) - base; n > 16+8 {
		t.Errorf("%d more descriptors open than before; stray ones are kept", n)
	}
	ch.Close()
	peer.Close()
	w.Close()
	if n := countFds(t); n > base {
		t.Errorf("fds: %d, baseline %d after Close", n, base)
	}
}

// readFrame reads one line from a raw peer, with any descriptors that
// came with it (they are closed).
func readFrame(t *testing.T, peer *os.File) (string, int) {
	t.Helper()
	rc, _ := peer.SyscallConn()
	var line []byte
	fds := 0
	for len(line) == 0 || line[len(line)-1] != '\n' {
		buf, oob := make([]byte, 1), make([]byte, syscall.CmsgSpace(4*4))
		var n, oobn int
		var err error
		rc.Read(func(fd uintptr) bool {
			n, oobn, _, _, err = syscall.Recvmsg(int(fd), buf, oob, 0)
			return err != syscall.EAGAIN
		})
		if err != nil || n == 0 {
			t.Fatalf("peer read: %d %v", n, err)
		}
		line = append(line, buf[:n]...)
		msgs, _ := syscall.ParseSocketControlMessage(oob[:oobn])
		for _, m := range msgs {
			got, _ := syscall.ParseUnixRights(&m)
			for _, fd := range got {
				syscall.Close(fd)
				fds++
			}
		}
	}
	return string(line), fds
}

// A NACKed handle is sent again, up to 3 times; sends made meanwhile wait
// for the handle's answer, as in Node.
func TestHandleRetransmit(t *testing.T) {
	handle := "{\"cmd\":\"NODE_HANDLE\",\"type\":\"net.Native\",\"msg\":\"h\"}\n"
	t.Run("NACK then ACK", func(t *testing.T) {
		ch, peer := rawPeer(t, nil)
		r, w, _ := os.Pipe()
		defer r.Close()
		defer w.Close()
		done := make(chan error, 1)
		go func() { done <- ch.SendHandle("h", r) }()
		if line, fds := readFrame(t, peer); line != handle || fds != 1 {
			t.Fatalf("first: %q with %d fds", line, fds)
		}
		sent := make(chan error, 1)
		go func() { sent <- ch.Send("after") }()
		time.Sleep(20 * time.Millisecond) // let Send wait for the handle
		peer.WriteString("{\"cmd\":\"NODE_HANDLE_NACK\"}\n")
		if line, fds := readFrame(t, peer); line != handle || fds != 1 {
			t.Fatalf("retransmission: %q with %d fds", line, fds)
		}
		peer.WriteString("{\"cmd\":\"NODE_HANDLE_ACK\"}\n")
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if err := <-sent; err != nil {
			t.Fatal(err)
		}
		if line, _ := readFrame(t, peer); line != "\"after\"\n" {
			t.Fatalf("then %q", line)
		}
	})
	t.Run("always NACK", func(t *testing.T) {
		ch, peer := rawPeer(t, nil)
		r, w, _ := os.Pipe()
		defer r.Close()
		defer w.Close()
		done := make(chan error, 1)
		go func() { done <- ch.SendHandle("h", r) }()
		for try := 0; try < 4; try++ {
			if line, fds := readFrame(t, peer); line != handle || fds != 1 {
				t.Fatalf("try %d: %q with %d fds", try, line, fds)
			}
			peer.WriteString("{\"cmd\":\"NODE_HANDLE_NACK\"}\n")
		}
		if err := <-done; !errors.Is(err, ipc.ErrHandleNotReceived) {
			t.Fatalf("SendHandle: %v, want ErrHandleNotReceived", err)
		}
	})
}

// Messages arriving a byte at a time, multi-byte characters split across
// reads, are put together.
func TestSplitAcrossReads(t *testing.T) {
	ch, peer := rawPeer(t, nil)
	in := "{\"s\":\"é😀\u2028\"}\r\n\"x\"\n"
	go func() {
		for i := range len(in) {
			peer.WriteString(in[i : i+1])
			time.Sleep(time.Millisecond)
		}
	}()
	for _, want := range []string{"{\"s\":\"é😀\u2028\"}", `"x"`} {
		if got := recv(t, ch).String(); got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
}

// More descriptors in one message than a read takes: the kernel drops
// the rest, so the channel ends with ErrBadHandle and keeps none of them.
func TestTooManyDescriptors(t *testing.T) {
	base := countFds(t)
	ch, peer := rawPeer(t, nil)
	r, w, _ := os.Pipe()
	fds := make([]int, 40)
	for i := range fds {
		fds[i] = int(r.Fd())
	}
	rc, _ := peer.SyscallConn()
	var serr error
	rc.Control(func(fd uintptr) {
		serr = syscall.Sendmsg(int(fd), []byte("1\n"), syscall.UnixRights(fds...), nil, 0)
	})
	if serr != nil {
		t.Fatal(serr)
	}
	r.Close()
	w.Close()
	got, err := collect(t, ch)
	var pe *ipc.ProtocolError
	if !errors.As(err, &pe) || !errors.Is(err, ipc.ErrBadHandle) {
		t.Fatalf("messages %q, error %v; want a ProtocolError with ErrBadHandle", got, err)
	}
	ch.Close()
	peer.Close()
	if n := countFds(t); n > base {
		t.Errorf("fds: %d, baseline %d after Close", n, base)
	}
}

// The receive queue is bounded in bytes too: a peer sending large
// messages nobody receives is stopped after about QueueBytes (plus the
// socket buffers), and every message still arrives once Recv runs.
func TestQueueBytesBound(t *testing.T) {
	ch, peer := rawPeer(t, &ipc.Options{QueueBytes: 4 << 20})
	msg := []byte("\"" + strings.Repeat("x", 1<<20) + "\"\n")
	const total = 64
	var written atomic.Int32
	wrote := make(chan error, 1)
	go func() {
		for range total {
			if _, err := peer.Write(msg); err != nil {
				wrote <- err
				return
			}
			written.Add(1)
		}
		wrote <- nil
	}()
	time.Sleep(500 * time.Millisecond)
	if n := written.Load(); n > 16 {
		t.Fatalf("the peer wrote %d MiB with nobody receiving; the queue should hold about 4", n)
	}
	for i := range total {
		m := recv(t, ch)
		if len(m.Bytes()) != len(msg)-1 {
			t.Fatalf("message %d: %d bytes", i, len(m.Bytes()))
		}
	}
	if err := <-wrote; err != nil {
		t.Fatal(err)
	}
}

// Once PeerDone is closed the channel reads to the peer's end whatever
// its queue holds: Disconnected closes, and the messages stay receivable.
func TestPeerDoneReadsToEnd(t *testing.T) {
	peerDone := make(chan struct{})
	ch, peer := rawPeer(t, &ipc.Options{QueueLen: 4, PeerDone: peerDone})
	for i := range 50 {
		fmt.Fprintf(peer, "%d\n", i)
	}
	peer.Close()
	select {
	case <-ch.Disconnected():
		t.Fatal("disconnected with the queue full and the peer not known to be done")
	case <-time.After(300 * time.Millisecond):
	}
	close(peerDone)
	select {
	case <-ch.Disconnected():
	case <-time.After(5 * time.Second):
		t.Fatal("not disconnected after PeerDone closed")
	}
	for i := range 50 {
		if m := recv(t, ch); m.String() != strconv.Itoa(i) {
			t.Fatalf("message %d: %q", i, m.String())
		}
	}
	if _, err := ch.Recv(context.Background()); err != io.EOF {
		t.Fatalf("after the messages: %v, want io.EOF", err)
	}
}

// sendHandleAcked sends a pipe as a handle to a raw peer that answers
// with an ACK, and fails the test unless SendHandle then returns nil.
func sendHandleAcked(t *testing.T, ch *ipc.Channel, peer *os.File) {
	t.Helper()
	r, w, _ := os.Pipe()
	defer r.Close()
	defer w.Close()
	done := make(chan error, 1)
	go func() { done <- ch.SendHandle("h", r) }()
	if line, fds := readFrame(t, peer); !strings.Contains(line, "NODE_HANDLE") || fds != 1 {
		t.Fatalf("got %q with %d fds", line, fds)
	}
	peer.WriteString("{\"cmd\":\"NODE_HANDLE_ACK\"}\n")
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("SendHandle never saw the ACK")
	}
}

// SendHandle from a caller that has left messages unreceived: the
// acknowledgement is read past the full queue, so there is no deadlock.
func TestSendHandleWithQueueFull(t *testing.T) {
	ch, peer := rawPeer(t, &ipc.Options{QueueLen: 4})
	for i := range 20 {
		fmt.Fprintf(peer, "%d\n", i)
	}
	time.Sleep(100 * time.Millisecond) // let the queue fill
	sendHandleAcked(t, ch, peer)
	for i := range 20 {
		if m := recv(t, ch); m.String() != strconv.Itoa(i) {
			t.Fatalf("message %d: %q", i, m.String())
		}
	}
}

// QueueBytes as large as an int goes does not overflow the bound kept
// while a handle waits for its ACK: the ACK is still read.
func TestQueueBytesHuge(t *testing.T) {
	ch, peer := rawPeer(t, &ipc.Options{QueueBytes: math.MaxInt})
	sendHandleAcked(t, ch, peer)
}

// handleLine is a NODE_HANDLE message, sent without its descriptor.
const handleLine = "{\"cmd\":\"NODE_HANDLE\",\"type\":\"net.Socket\",\"msg\":1}\n"

// bareChannel is rawPeer without the cleanup, for a test that closes both
// ends itself and then checks for leaks.
func bareChannel(t *testing.T) (*ipc.Channel, *os.File) {
	t.Helper()
	ours, theirs := socketPair(t)
	ch, err := ipc.NewFile(ours, nil)
	if err != nil {
		t.Fatal(err)
	}
	return ch, theirs
}

// noLeaks notes the open descriptors; the function it returns fails the
// test if more are open, or goroutines are left (goleak).
func noLeaks(t *testing.T) func() {
	base := countFds(t)
	return func() {
		t.Helper()
		if n := countFds(t); n != base {
			t.Errorf("fds: %d, baseline %d", n, base)
		}
		goleak.VerifyNone(t)
	}
}

// A peer that floods NODE_HANDLE lines without descriptors and never
// reads the NACKs is answered by the end of the channel, with a
// *ProtocolError, not by a reader blocked on the answers: Recv returns
// within its context, Close at once, and nothing is left behind.
func TestHandleFloodNeverReading(t *testing.T) {
	defer noLeaks(t)()
	ch, theirs := bareChannel(t)
	flooded := make(chan error, 1)
	go func() {
		flood := []byte(strings.Repeat(handleLine, 64<<10/len(handleLine)))
		for {
			if _, err := theirs.Write(flood); err != nil {
				flooded <- err // the channel was closed under it
				return
			}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	start := time.Now()
	_, err := ch.Recv(ctx)
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("Recv with a 1 s context returned after %v", took)
	}
	var pe *ipc.ProtocolError
	if !errors.Is(err, context.DeadlineExceeded) && !(errors.As(err, &pe) && errors.Is(err, ipc.ErrBadHandle)) {
		t.Errorf("Recv: %v, want DeadlineExceeded or a *ProtocolError wrapping ErrBadHandle", err)
	}
	select {
	case <-ch.Disconnected():
	case <-time.After(5 * time.Second):
		t.Fatal("the flood did not end the channel")
	}
	if err := ch.Err(); !errors.As(err, &pe) || !errors.Is(err, ipc.ErrBadHandle) {
		t.Errorf("Err: %v, want a *ProtocolError wrapping ErrBadHandle", err)
	}
	t.Logf("Recv: %v after %v; Err: %v", err, time.Since(start), ch.Err())
	start = time.Now()
	ch.Close()
	if took := time.Since(start); took > time.Second {
		t.Errorf("Close took %v", took)
	}
	if err := <-flooded; !errors.Is(err, syscall.EPIPE) && !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("the peer's write failed with %v, want EPIPE", err)
	}
	theirs.Close()
}

// Recv honours its context while the answers to handle messages cannot
// be written (the peer reads nothing, and Send has filled the socket):
// the answers wait without holding up reading. Close then ends the
// blocked Send at once and returns within its flush bound.
func TestRecvContextWhileAnswersWait(t *testing.T) {
	defer noLeaks(t)()
	ch, theirs := bareChannel(t)
	var sent atomic.Int64
	sendErr := make(chan error, 1)
	go func() {
		payload := strings.Repeat("x", 1024)
		for {
			if err := ch.Send(payload); err != nil {
				sendErr <- err
				return
			}
			sent.Add(1)
		}
	}()
	for last := int64(-1); sent.Load() != last; time.Sleep(200 * time.Millisecond) {
		last = sent.Load() // until Send blocks: the socket and HighWater are full
	}
	recvErr := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err := ch.Recv(ctx)
		recvErr <- err
	}()
	time.Sleep(100 * time.Millisecond) // Recv is reading: it reads the handle messages itself
	theirs.WriteString(strings.Repeat(handleLine, 10))
	select {
	case err := <-recvErr:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Recv: %v, want DeadlineExceeded", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Recv with a 1 s context still blocked after 3 s")
	}
	start := time.Now()
	closed := make(chan struct{})
	go func() { ch.Close(); close(closed) }()
	select {
	case err := <-sendErr:
		if !errors.Is(err, ipc.ErrClosed) {
			t.Errorf("the blocked Send: %v, want ErrClosed", err)
		}
		if took := time.Since(start); took > time.Second {
			t.Errorf("the blocked Send returned %v after Close", took)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not end the blocked Send")
	}
	select {
	case <-closed: // frames the peer never read are given up after a few seconds
	case <-time.After(10 * time.Second):
		t.Fatal("Close still flushing after 10 s")
	}
	theirs.Close()
}

// Close ends a SendHandle waiting for its acknowledgement, at once.
func TestCloseEndsSendHandle(t *testing.T) {
	defer noLeaks(t)()
	ch, theirs := bareChannel(t)
	defer theirs.Close()
	r, w, _ := os.Pipe()
	defer r.Close()
	defer w.Close()
	done := make(chan error, 1)
	go func() { done <- ch.SendHandle("h", r) }()
	if line, fds := readFrame(t, theirs); !strings.Contains(line, "NODE_HANDLE") || fds != 1 {
		t.Fatalf("got %q with %d fds", line, fds)
	}
	start := time.Now()
	ch.Close()
	select {
	case err := <-done:
		if !errors.Is(err, ipc.ErrClosed) {
			t.Errorf("SendHandle: %v, want ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("SendHandle still waiting after Close")
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("Close and SendHandle took %v", took)
	}
}

// Frames longer than the read buffer, some longer than what is read in
// Go's heap, arrive whole between short ones, up to a frame of exactly
// MaxMessageSize bytes; one byte more ends the channel.
func TestLongFrames(t *testing.T) {
	defer noLeaks(t)()
	const limit = 4 << 20
	str := func(n int) string { return `"` + strings.Repeat("é", (n-2)/2) + strings.Repeat("x", n%2) + `"` } // n bytes of JSON
	want := []string{
		"1", str(100 << 10), "2", str(3 << 20), `{"a":` + str(2<<20) + `}`,
		str(limit - 2), // and "\r\n": limit bytes
		"3", str(limit - 1),
	}
	input := strings.Join(want[:5], "\n") + "\n" + want[5] + "\r\n" + want[6] + "\n" +
		`{"cmd":"NODE_X","pad":` + str(2<<20) + "}\n" + want[7] + "\n" +
		str(limit) + "\n" // limit+1 bytes
	ours, theirs := socketPair(t)
	ch, err := ipc.NewFile(ours, &ipc.Options{MaxMessageSize: limit})
	if err != nil {
		t.Fatal(err)
	}
	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		for s := input; len(s) > 0; { // in uneven pieces
			n, err := theirs.WriteString(s[:min(len(s), 77777)])
			if err != nil {
				return // the channel ended before all was read
			}
			s = s[n:]
		}
	}()
	got, err := collect(t, ch)
	if len(got) != len(want) {
		t.Errorf("%d messages, want %d", len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			t.Errorf("message %d: %d bytes %.20q, want %d bytes %.20q", i, len(got[i]), got[i], len(want[i]), want[i])
		}
	}
	var pe *ipc.ProtocolError
	if !errors.As(err, &pe) || !errors.Is(err, ipc.ErrTooLarge) || pe.Offset != int64(len(input)-limit-1) {
		t.Errorf("error %v, want a *ProtocolError wrapping ErrTooLarge at %d", err, len(input)-limit-1)
	}
	ch.Close()
	theirs.Close()
	<-wrote
}

// A line longer than MaxMessageSize is refused once MaxMessageSize bytes
// of it have come, without reading the rest: the peer's writes fail soon
// after, however long the line.
func TestEndlessLineRefused(t *testing.T) {
	defer noLeaks(t)()
	const limit = 8 << 20
	ours, theirs := socketPair(t)
	ch, err := ipc.NewFile(ours, &ipc.Options{MaxMessageSize: limit})
	if err != nil {
		t.Fatal(err)
	}
	var written atomic.Int64
	wrote := make(chan error, 1)
	go func() {
		chunk := []byte(strings.Repeat("x", 1<<20))
		theirs.WriteString(`"`)
		for written.Load() < 1<<30 {
			n, err := theirs.Write(chunk)
			written.Add(int64(n))
			if err != nil {
				wrote <- err
				return
			}
		}
		wrote <- nil
	}()
	_, err = collect(t, ch)
	if !errors.Is(err, ipc.ErrTooLarge) {
		t.Errorf("error %v, want ErrTooLarge", err)
	}
	if err := <-wrote; !errors.Is(err, syscall.EPIPE) && !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("the peer's write: %v, want EPIPE", err)
	}
	// What the socket buffers held besides, a few MiB at most, was never read.
	if n := written.Load(); n > limit+8<<20 {
		t.Errorf("the peer wrote %d MiB of a line refused at %d MiB", n>>20, limit>>20)
	}
	ch.Close()
	theirs.Close()
}
