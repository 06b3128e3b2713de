//go:build unix

package ipc

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// heldPair returns a Channel on one end of a socketpair and the other end,
// raw, for the test to play the peer; the channel holds answers for an
// hour, so that only what the test does sends them, and takes any Send
// after a Recv that left messages waiting for an answer.
func heldPair(t *testing.T) (*Channel, *os.File) {
	t.Helper()
	fds := SocketPair(t)
	syscall.SetNonblock(fds[1], true) // for read deadlines
	peer := os.NewFile(uintptr(fds[1]), "peer")
	t.Cleanup(func() { peer.Close() })
	ch, err := NewFile(os.NewFile(uintptr(fds[0]), "ours"), &Options{SpinWait: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ch.Close() })
	ch.w.holdFor = time.Hour
	ch.answerFor = time.Hour
	return ch, peer
}

// holdingOne is heldPair with "1" and "2" received in one read and the
// answer to "1" held.
func holdingOne(t *testing.T) (*Channel, *os.File) {
	t.Helper()
	ch, peer := heldPair(t)
	peer.WriteString("1\n2\n")
	echoNext(t, ch)
	if held(ch) == 0 {
		t.Fatal("the answer to 1 was not held while 2 waited")
	}
	return ch, peer
}

// echoNext receives one message and sends it back.
func echoNext(t *testing.T, ch *Channel) {
	t.Helper()
	m, err := ch.Recv(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Send(json.RawMessage(m.Bytes())); err != nil {
		t.Fatal(err)
	}
}

// held returns how many bytes the writer holds.
func held(ch *Channel) int {
	ch.w.mu.Lock()
	defer ch.w.mu.Unlock()
	if ch.w.busy {
		return 0
	}
	return len(ch.w.buf)
}

// readable reports whether peer has bytes to read, without waiting.
func readable(t *testing.T, peer *os.File) bool {
	t.Helper()
	buf := make([]byte, 1)
	n, _, err := syscall.Recvfrom(int(peer.Fd()), buf, syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	if err != nil && !errors.Is(err, syscall.EAGAIN) {
		t.Fatal(err)
	}
	return n > 0
}

// Answers to messages that came in one read go out in one write, once the
// last has been answered, in order.
func TestAnswersHeldUntilLast(t *testing.T) {
	ch, peer := heldPair(t)
	if _, err := peer.WriteString("1\n2\n3\n"); err != nil {
		t.Fatal(err)
	}
	echoNext(t, ch)
	echoNext(t, ch)
	if n := held(ch); n != len("1\n2\n") {
		t.Fatalf("%d bytes held after two answers with a message waiting, want %d", n, len("1\n2\n"))
	}
	if readable(t, peer) {
		t.Fatal("an answer went out while a message waited for Recv")
	}
	echoNext(t, ch)
	got := make([]byte, 64)
	peer.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := io.ReadAtLeast(peer, got, len("1\n2\n3\n"))
	if err != nil || string(got[:n]) != "1\n2\n3\n" {
		t.Fatalf("peer read %q (%v), want the three answers in order", got[:n], err)
	}
}

// A Recv that finds nothing waiting sends what is held before it waits.
func TestRecvSendsHeldBeforeWaiting(t *testing.T) {
	ch, peer := holdingOne(t)
	m, err := ch.Recv(context.Background())
	if err != nil || m.String() != "2" {
		t.Fatalf("Recv: %q %v", m.String(), err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := ch.Recv(context.Background())
		done <- err
	}()
	line, err := readLine(peer)
	if err != nil || line != "1\n" {
		t.Fatalf("peer read %q (%v) while Recv waited, want the held answer", line, err)
	}
	peer.WriteString("3\n")
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// An answer held while its sender goes on to other work, never calling
// Recv again, goes out within holdDelay all the same.
func TestHeldAnswerSentWithoutRecv(t *testing.T) {
	ch, peer := heldPair(t)
	ch.w.holdFor = holdDelay
	peer.WriteString("1\n2\n")
	echoNext(t, ch)
	line, err := readLine(peer)
	if err != nil || line != "1\n" {
		t.Fatalf("peer read %q (%v), want the held answer", line, err)
	}
}

// Close sends what is held before the peer reads EOF.
func TestCloseSendsHeld(t *testing.T) {
	ch, peer := holdingOne(t)
	if err := ch.Close(); err != nil {
		t.Fatal(err)
	}
	peer.SetReadDeadline(time.Now().Add(10 * time.Second))
	all, err := io.ReadAll(peer)
	if err != nil || string(all) != "1\n" {
		t.Fatalf("peer read %q (%v) before EOF, want the held answer", all, err)
	}
}

// Held frames go out before a handle sent after them, and the handle's
// acknowledgement comes through.
func TestSendHandleAfterHeld(t *testing.T) {
	ch, peer := heldPair(t)
	peer.WriteString("1\n2\n")
	echoNext(t, ch)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	done := make(chan error, 1)
	go func() { done <- ch.SendHandle("h", r) }()
	br := bufio.NewReader(peer)
	peer.SetReadDeadline(time.Now().Add(10 * time.Second))
	first, err := br.ReadString('\n')
	if err != nil || first != "1\n" {
		t.Fatalf("peer read %q (%v) first, want the held answer", first, err)
	}
	second, err := br.ReadString('\n')
	if err != nil || !strings.Contains(second, `"NODE_HANDLE"`) {
		t.Fatalf("peer read %q (%v) second, want the handle message", second, err)
	}
	peer.WriteString(`{"cmd":"NODE_HANDLE_ACK"}` + "\n")
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// readLine reads one line from peer, within a generous bound.
func readLine(peer *os.File) (string, error) {
	peer.SetReadDeadline(time.Now().Add(10 * time.Second))
	defer peer.SetReadDeadline(time.Time{})
	var line []byte
	b := make([]byte, 1)
	for {
		if _, err := peer.Read(b); err != nil {
			return string(line), err
		}
		line = append(line, b[0])
		if b[0] == '\n' {
			return string(line), nil
		}
	}
}

// A queue that never empties keeps to the room of what waits in it: the
// messages taken leave their room to those that come.
func TestQueueReusesRoom(t *testing.T) {
	ch, _ := heldPair(t)
	msg := func(i int) Message { return Message{raw: []byte(strings.Repeat("x", i%7+1)), codec: JSON} }
	for i := range 10 {
		ch.push(msg(i))
	}
	for i := range 10000 {
		ch.push(msg(i))
		if _, ok, _ := ch.pop(); !ok {
			t.Fatal("the queue emptied")
		}
	}
	ch.qmu.Lock()
	waiting, room := len(ch.q)-ch.qh, cap(ch.q)
	ch.qmu.Unlock()
	if waiting != 10 || room > 64 {
		t.Fatalf("%d messages waiting in a queue of room for %d", waiting, room)
	}
}
