//go:build unix

package ipc_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/childproc/childproc/ipc"
)

var advanced = &ipc.Options{Serialization: "advanced"}

func caseNames() []string {
	names := make([]string, 0, len(advancedCases))
	for name := range advancedCases {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// A Go parent and a Node child on an advanced channel: every case Node
// sends arrives as Node's exact bytes (Go's encoding of the same value)
// and decodes to the Go value; every case Go sends is, in Node, deep-
// strict-equal to the JavaScript value and serializes as it does; and
// every case comes back from a Node echo as it went.
func TestAdvancedGoParentNodeChild(t *testing.T) {
	ch, _ := startChild(t, advanced, "node", "testdata/advanced_child.js")
	echo, _ := startChild(t, advanced, "node", "testdata/echo_child.js", "echo")
	for _, name := range caseNames() {
		c := advancedCases[name]
		if c.unreadable {
			continue
		}
		if err := ch.Send(map[string]any{"op": "get", "name": name}); err != nil {
			t.Fatal(err)
		}
		m := recv(t, ch)
		var got any
		if err := m.Decode(&got); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !sameJS(got, c.value()) {
			t.Errorf("%s: Node sent %.200v, want %.200v", name, got, c.value())
		}
		if p := payload(t, c.value()); !c.loose && !bytes.Equal(m.Bytes(), p) {
			t.Errorf("%s: Node wrote\n%s\nGo writes\n%s", name, short(m.Bytes()), short(p))
		}
		if err := ch.Send(map[string]any{"op": "check", "name": name, "value": c.value()}); err != nil {
			t.Fatal(err)
		}
		var verdict struct {
			Name        string
			Equal, Same bool
		}
		if err := recv(t, ch).Decode(&verdict); err != nil || verdict.Name != name || !verdict.Equal || !verdict.Same {
			t.Errorf("%s: Node received a different value: %+v (%v)", name, verdict, err)
		}
		// And the round trip: what Node makes of it, sent back.
		if err := echo.Send(c.value()); err != nil {
			t.Fatal(err)
		}
		if err := recv(t, echo).Decode(&got); err != nil || !sameJS(got, c.value()) {
			t.Errorf("%s: came back from Node as %.200v (%v)", name, got, err)
		}
	}
}

// A Node parent forks a Go child on an advanced channel: each case
// comes back equal, and the Go child's serialization of what it decoded
// is Node's, byte for byte; a socket passes with its message.
func TestAdvancedNodeParentGoChild(t *testing.T) {
	path := filepath.Join(t.TempDir(), "advchild")
	if out, err := exec.Command("go", "build", "-o", path, "./testdata/advchild").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command("node", "testdata/advanced_parent.js", path).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "ok" {
		t.Fatalf("node parent: %v\n%s", err, out)
	}
}

// Handles pass in advanced mode both ways: a listener to a Node child,
// which serves on it, and a socket from a Node child.
func TestAdvancedHandles(t *testing.T) {
	t.Run("to node", func(t *testing.T) {
		ch, _ := startChild(t, advanced, "node", "testdata/echo_child.js", "serve")
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		if err := ch.SendHandle(map[string]any{"greeting": "advanced"}, l); err != nil {
			t.Fatal(err)
		}
		var ack map[string]any
		if err := recv(t, ch).Decode(&ack); err != nil || ack["serving"] != true {
			t.Fatalf("child answered %v (%v)", ack, err)
		}
		l.Close() // the child's copy serves
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetReadDeadline(time.Now().Add(20 * time.Second))
		var buf bytes.Buffer
		buf.ReadFrom(c)
		if got := buf.String(); got != "hello from node: advanced" {
			t.Fatalf("served %q", got)
		}
	})
	t.Run("from node", func(t *testing.T) {
		ch, _ := startChild(t, advanced, "node", "testdata/echo_child.js", "sendsock")
		m := recv(t, ch)
		var body map[string]any
		if err := m.Decode(&body); err != nil || body["here"] != "socket" || m.HandleType() != "net.Socket" {
			t.Fatalf("got %v (%v), handle %q", body, err, m.HandleType())
		}
		c, err := m.Conn()
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetReadDeadline(time.Now().Add(20 * time.Second))
		var buf bytes.Buffer
		buf.ReadFrom(c)
		if buf.String() != "through the passed socket" {
			t.Fatalf("read %q", buf.String())
		}
		var after string
		if err := recv(t, ch).Decode(&after); err != nil || after != "after" {
			t.Fatalf("then %q (%v)", after, err)
		}
		ch.Send("done")
	})
}

// A Go parent and a Go child speak advanced too, through Parent.
func TestAdvancedGoChildEcho(t *testing.T) {
	path := filepath.Join(t.TempDir(), "advchild")
	if out, err := exec.Command("go", "build", "-o", path, "./testdata/advchild").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ch, _ := startChild(t, advanced, path)
	in := advancedCases["everything"].value()
	if err := ch.Send(in); err != nil {
		t.Fatal(err)
	}
	var back struct {
		Value any
		Bytes []byte
	}
	if err := recv(t, ch).Decode(&back); err != nil {
		t.Fatal(err)
	}
	if !sameJS(back.Value, in) || !bytes.Equal(back.Bytes, payload(t, in)) {
		t.Fatalf("came back as %v", back.Value)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if _, err := ch.Recv(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("one answer expected, then nothing: %v", err)
	}
}

// In advanced mode too, protocol messages (cmd "NODE_…") from a Node
// child are not delivered, and look-alikes are.
func TestAdvancedInternalMessagesFiltered(t *testing.T) {
	ch, _ := startChild(t, advanced, "node", "testdata/echo_child.js", "internal")
	var want = []string{`map[cmd:NODE_ shown:1]`, `map[cmd:node_lower shown:2]`, `map[cmd:5 shown:3]`, `last`}
	for _, w := range want {
		var v any
		if err := recv(t, ch).Decode(&v); err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(v); got != w {
			t.Fatalf("got %s, want %s", got, w)
		}
	}
}
