//go:build unix

package ipc_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/childproc/childproc/ipc"
)

// peers are the echo children every test suite runs against: real Node
// and a Go child built from testdata/gochild.
func echoPeers(t *testing.T) map[string]func(t *testing.T) *ipc.Channel {
	return map[string]func(t *testing.T) *ipc.Channel{
		"node": func(t *testing.T) *ipc.Channel { ch, _ := nodeChild(t, "echo"); return ch },
		"go": func(t *testing.T) *ipc.Channel {
			ch, _ := startChild(t, nil, goChildPath(t))
			return ch
		},
	}
}

func TestEchoTrickyMessages(t *testing.T) {
	for name, start := range echoPeers(t) {
		t.Run(name, func(t *testing.T) {
			ch := start(t)
			for _, raw := range trickyMessages {
				if err := ch.Send(json.RawMessage(raw)); err != nil {
					t.Fatal(err)
				}
				got := recv(t, ch)
				if !bytes.Equal(got.Bytes(), []byte(raw)) {
					t.Fatalf("echo of %.60q came back as %.60q", raw, got.Bytes())
				}
			}
			// Go values round-trip too.
			in := map[string]any{"k": "v \u2028 😀", "n": 3.0, "l": []any{nil, false}}
			ch.Send(in)
			var out map[string]any
			if err := recv(t, ch).Decode(&out); err != nil || out["k"] != in["k"] || out["n"] != 3.0 {
				t.Fatalf("Go value came back as %v (%v)", out, err)
			}
		})
	}
}

func TestEchoBurstInOrder(t *testing.T) {
	const n = 100000
	for name, start := range echoPeers(t) {
		t.Run(name, func(t *testing.T) {
			ch := start(t)
			go func() {
				for i := 0; i < n; i++ {
					if err := ch.Send(json.RawMessage(`{"i":` + strconv.Itoa(i) + `}`)); err != nil {
						return
					}
				}
			}()
			for i := 0; i < n; i++ {
				var m struct{ I int }
				if err := recv(t, ch).Decode(&m); err != nil || m.I != i {
					t.Fatalf("message %d: got %d (%v)", i, m.I, err)
				}
			}
		})
	}
}

// A Go child does not deliver NODE_-prefixed protocol messages either:
// of what the parent sends, it echoes only the look-alikes.
func TestInternalMessagesFilteredByGoChild(t *testing.T) {
	ch, _ := startChild(t, nil, goChildPath(t))
	for _, m := range []string{`{"cmd":"NODE_X","hidden":true}`, `{"cmd":"NODE_","shown":1}`, `{"cmd":"node_lower","shown":2}`, `{"cmd":5,"shown":3}`, `"last"`} {
		if err := ch.Send(json.RawMessage(m)); err != nil {
			t.Fatal(err)
		}
	}
	for _, w := range []string{`{"cmd":"NODE_","shown":1}`, `{"cmd":"node_lower","shown":2}`, `{"cmd":5,"shown":3}`, `"last"`} {
		if got := recv(t, ch).String(); got != w {
			t.Fatalf("got %s, want %s", got, w)
		}
	}
}

// A Go parent passes a connected socket to a Go child, which writes into
// it.
func TestSendSocketToGoChild(t *testing.T) {
	ch, _ := startChild(t, nil, goChildPath(t))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	srv, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if err := ch.SendHandle(map[string]string{"take": "this"}, c); err != nil {
		t.Fatal(err)
	}
	c.Close() // the child's copy is the one left
	if got := recv(t, ch).String(); got != `{"handled":"net.Socket"}` {
		t.Fatalf("child answered %s", got)
	}
	srv.SetDeadline(time.Now().Add(10 * time.Second))
	got, _ := io.ReadAll(srv)
	if string(got) != `hello from go: {"take":"this"}` {
		t.Fatalf("read %q", got)
	}
}

// Node's NODE_-prefixed protocol messages never reach Recv; look-alikes do.
func TestInternalMessagesFiltered(t *testing.T) {
	ch, _ := nodeChild(t, "internal")
	want := []string{`{"cmd":"NODE_","shown":1}`, `{"cmd":"node_lower","shown":2}`, `{"cmd":5,"shown":3}`, `"last"`}
	for _, w := range want {
		if got := recv(t, ch).String(); got != w {
			t.Fatalf("got %s, want %s", got, w)
		}
	}
}

// Close on our side is 'disconnect' on Node's.
func TestCloseIsNodeDisconnect(t *testing.T) {
	ch, cmd := nodeChild(t, "disconnect")
	if got := recv(t, ch).String(); got != `"ready"` {
		t.Fatal(got)
	}
	if err := ch.Close(); err != nil {
		t.Fatal(err)
	}
	if err := ch.Close(); !errors.Is(err, ipc.ErrClosed) {
		t.Fatalf("second Close: %v, want ErrClosed", err)
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 42 {
		t.Fatalf("node child: %v, want exit 42 from its 'disconnect' handler", err)
	}
	if ch.Connected() {
		t.Error("Connected after Close")
	}
	if _, err := ch.Recv(context.Background()); err != io.EOF {
		t.Errorf("Recv after Close: %v", err)
	}
	if err := ch.Send("x"); !errors.Is(err, ipc.ErrClosed) {
		t.Errorf("Send after Close: %v", err)
	}
}

// Node's process.disconnect() is EOF here, after the messages before it.
func TestNodeDisconnectIsEOF(t *testing.T) {
	ch, _ := nodeChild(t, "bye")
	ch.Send("hi")
	if got := recv(t, ch).String(); got != `"bye"` {
		t.Fatal(got)
	}
	select {
	case <-ch.Disconnected():
	case <-time.After(10 * time.Second):
		t.Fatal("no disconnect")
	}
	if _, err := ch.Recv(context.Background()); err != io.EOF {
		t.Fatalf("Recv: %v, want io.EOF", err)
	}
	if err := ch.Close(); !errors.Is(err, ipc.ErrClosed) {
		t.Fatalf("Close after the peer's disconnect: %v, want ErrClosed", err)
	}
}

// A child that dies mid-stream: the messages it sent arrive, then EOF.
func TestChildCrashMidStream(t *testing.T) {
	for name, args := range map[string][]string{"node": {"node", "testdata/echo_child.js", "crash"}, "go": {goChildPath(t), "crash"}} {
		t.Run(name, func(t *testing.T) {
			ch, cmd := startChild(t, nil, args[0], args[1:]...)
			for i := 1; i <= 3; i++ {
				if got := recv(t, ch).String(); got != strconv.Itoa(i) {
					t.Fatalf("got %s", got)
				}
			}
			if _, err := ch.Recv(context.Background()); err != io.EOF {
				t.Fatalf("Recv: %v, want io.EOF", err)
			}
			var ee *exec.ExitError
			if err := cmd.Wait(); !errors.As(err, &ee) || ee.ExitCode() != 3 {
				t.Fatalf("child: %v, want exit code 3", err)
			}
			if err := ch.Send("x"); !errors.Is(err, ipc.ErrClosed) {
				t.Fatalf("Send to a dead child: %v", err)
			}
		})
	}
}

// A Node parent's child.disconnect() is EOF for a Go child, which then
// ends; Node sees 'disconnect' and exit code 0.
func TestNodeParentDisconnectsGoChild(t *testing.T) {
	script := `
const assert = require('assert');
const child = require('child_process').spawn(process.argv[1], [], { stdio: ['inherit', 'inherit', 'inherit', 'ipc'] });
let disconnected = false;
child.on('disconnect', () => { disconnected = true; });
child.on('message', (m) => { assert.strictEqual(m, 'hi'); child.disconnect(); });
child.on('exit', (code) => { assert.strictEqual(code, 0); assert.ok(disconnected); console.log('ok'); });
child.send('hi');
`
	out, err := exec.Command("node", "-e", script, goChildPath(t)).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Fatalf("node parent: %v\n%s", err, out)
	}
}

// A listener sent by Go is served by the Node child (and by a Go child).
func TestSendListener(t *testing.T) {
	cases := map[string]struct {
		start func(t *testing.T) *ipc.Channel
		reply string
	}{
		"node": {func(t *testing.T) *ipc.Channel { ch, _ := nodeChild(t, "serve"); return ch }, "hello from node: hi"},
		"go":   {func(t *testing.T) *ipc.Channel { ch, _ := startChild(t, nil, goChildPath(t)); return ch }, "served by go"},
	}
	for name, tc := range cases {
		for _, network := range []string{"tcp", "unix"} {
			t.Run(name+"/"+network, func(t *testing.T) {
				ch := tc.start(t)
				addr := "127.0.0.1:0"
				if network == "unix" {
					addr = filepath.Join(t.TempDir(), "sock")
				}
				l, err := net.Listen(network, addr)
				if err != nil {
					t.Fatal(err)
				}
				if ul, ok := l.(*net.UnixListener); ok {
					ul.SetUnlinkOnClose(false) // the child's copy goes on listening at the path
				}
				serveHandle(t, ch, l, network, tc.reply)
			})
		}
	}
}

// serveHandle sends l to the child, closes it here and checks that a
// connection to its address gets reply from the child.
func serveHandle(t *testing.T, ch *ipc.Channel, l net.Listener, network, reply string) {
	t.Helper()
	if err := ch.SendHandle(map[string]string{"greeting": "hi"}, l); err != nil {
		t.Fatal(err)
	}
	recv(t, ch) // {"serving":true} / {"handled":...}
	addr := l.Addr().String()
	l.Close() // only the child's copy listens now
	c, err := net.Dial(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	got, _ := io.ReadAll(c)
	if string(got) != reply {
		t.Fatalf("got %q, want %q", got, reply)
	}
}

// A socket sent by Node arrives with its message; later messages follow
// (they were held until our ACK).
func TestReceiveSocketFromNode(t *testing.T) {
	ch, _ := nodeChild(t, "sendsock")
	m := recv(t, ch)
	if m.String() != `{"here":"socket"}` || m.HandleType() != "net.Socket" || m.File() == nil {
		t.Fatalf("got %s type %q file %v", m.Bytes(), m.HandleType(), m.File())
	}
	conn, err := m.Conn()
	if err != nil {
		t.Fatal(err)
	}
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	got, _ := io.ReadAll(conn)
	conn.Close()
	if string(got) != "through the passed socket" {
		t.Fatalf("read %q", got)
	}
	if after := recv(t, ch).String(); after != `"after"` {
		t.Fatalf("then %s", after)
	}
	ch.Send("done")
}

// A Node parent forks the Go child: echoes byte for byte, send
// callbacks, a passed socket, and 'disconnect'.
func TestNodeParentGoChild(t *testing.T) {
	out, err := exec.Command("node", "testdata/node_parent.js", goChildPath(t)).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Fatalf("node parent: %v\n%s", err, out)
	}
}

// Messages from several goroutines all arrive, each sender's in order.
func TestConcurrentSenders(t *testing.T) {
	ch, _ := startChild(t, nil, goChildPath(t))
	const senders, each = 8, 2000
	for s := 0; s < senders; s++ {
		go func() {
			for i := 0; i < each; i++ {
				ch.Send(map[string]int{"s": s, "i": i})
			}
		}()
	}
	next := make([]int, senders)
	for k := 0; k < senders*each; k++ {
		var m struct{ S, I int }
		if err := recv(t, ch).Decode(&m); err != nil {
			t.Fatal(err)
		}
		if m.I != next[m.S] {
			t.Fatalf("sender %d: got %d, want %d", m.S, m.I, next[m.S])
		}
		next[m.S]++
	}
}

// Node takes each kind of handle SendHandle sends, as the kind it names.
func TestHandleKindsToNode(t *testing.T) {
	ch, _ := nodeChild(t, "handles")
	tl, _ := net.Listen("tcp", "127.0.0.1:0")
	defer tl.Close()
	tc, _ := net.Dial("tcp", tl.Addr().String())
	defer tc.Close()
	uc, _ := net.ListenPacket("udp", "127.0.0.1:0")
	defer uc.Close()
	pr, pw, _ := os.Pipe()
	defer pr.Close()
	defer pw.Close()
	pw.WriteString("through the pipe")
	for _, c := range []struct {
		h    any
		want string
	}{
		{tl, `{"m":"net.Server","kind":"Server"}`},
		{tc, `{"m":"net.Socket","kind":"Socket"}`},
		{uc, `{"m":"dgram.Native","kind":"UDP"}`},
		{pr, `{"m":"net.Native","kind":"Pipe","read":"through the pipe"}`},
	} {
		typ := strings.SplitN(c.want, `"`, 5)[3]
		if err := ch.SendHandle(typ, c.h); err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		if got := recv(t, ch).String(); got != c.want {
			t.Fatalf("got %s, want %s", got, c.want)
		}
	}
}
