package childproc_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/childproc/childproc"
	"github.com/childproc/childproc/ipc"
)

// Entries of the test binary.
var (
	echoEntry = childproc.RegisterEntry("test-echo", func(ctx context.Context, ch *ipc.Channel, args []string) error {
		for {
			m, err := ch.Recv(ctx)
			if err != nil {
				return nil
			}
			if m.String() == `"exit"` {
				return nil
			}
			if err := ch.Send(json.RawMessage(m.Bytes())); err != nil {
				return err
			}
		}
	})
	argsEntry = childproc.RegisterEntry("test-args", func(ctx context.Context, ch *ipc.Channel, args []string) error {
		return ch.Send(map[string]any{"args": args, "env": os.Getenv("CHILDPROC_REEXEC"), "fd": os.Getenv("NODE_CHANNEL_FD")})
	})
	failEntry = childproc.RegisterEntry("test-fail", func(ctx context.Context, ch *ipc.Channel, args []string) error {
		return errors.New("entry failed on purpose")
	})
	panicEntry    = childproc.RegisterEntry("test-panic", func(ctx context.Context, ch *ipc.Channel, args []string) error { panic("on purpose") })
	longFailEntry = childproc.RegisterEntry("test-long-fail", func(ctx context.Context, ch *ipc.Channel, args []string) error {
		return errors.New(strings.Repeat("é", 3000))
	})
	// Receives until the channel ends, then writes what ended it to
	// args[0].
	eofEntry = childproc.RegisterEntry("test-until-eof", func(ctx context.Context, ch *ipc.Channel, args []string) error {
		ch.Send("ready")
		for {
			if _, err := ch.Recv(context.Background()); err != nil {
				return os.WriteFile(args[0], []byte(err.Error()), 0o644)
			}
		}
	})
	waitEntry = childproc.RegisterEntry("test-wait-disconnect", func(ctx context.Context, ch *ipc.Channel, args []string) error {
		ch.Send("ready")
		<-ctx.Done()
		fmt.Fprintln(os.Stderr, "entry saw its parent go")
		return nil
	})
)

func recvString(t *testing.T, c *childproc.Child) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m, err := c.Recv(ctx)
	if err != nil {
		t.Fatalf("Recv: %v", err)
	}
	return m.String()
}

func TestForkEntryEcho(t *testing.T) {
	c, err := childproc.ForkEntry(context.Background(), echoEntry, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	msgs := []any{
		map[string]any{"a": 1.0, "nested": map[string]any{"b": []any{true, nil, "x"}}},
		"line\nbreak \u2028 \u2029 é 😀",
		1.5, nil, "", strings.Repeat("x", 8<<20),
	}
	for _, m := range msgs {
		if err := c.Send(m); err != nil {
			t.Fatal(err)
		}
		got, err := c.Recv(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var back any
		if err := got.Decode(&back); err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(back) != fmt.Sprint(m) {
			t.Fatalf("echo of %.80v came back as %.80v", m, back)
		}
	}
	c.Send("exit")
	if err := c.Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Recv(context.Background()); err != io.EOF {
		t.Fatalf("Recv after exit: %v, want io.EOF", err)
	}
	if c.Connected() {
		t.Error("still connected after the child exited")
	}
	if err := c.Send("late"); !isCode(err, childproc.CodeChannelClosed) {
		t.Errorf("Send after exit: %v", err)
	}
}

func isCode(err error, code string) bool {
	var e *childproc.Error
	return errors.As(err, &e) && e.Code == code
}

func TestForkEntryArgsAndEnv(t *testing.T) {
	c, err := childproc.ForkEntry(context.Background(), argsEntry, []string{"one", "two words"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Args []string
		Env  string
		FD   string
	}
	m, err := c.Recv(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	m.Decode(&got)
	if strings.Join(got.Args, "|") != "one|two words" || got.Env != "" || got.FD != "" {
		t.Fatalf("entry saw %+v; want its args, and neither CHILDPROC_REEXEC nor NODE_CHANNEL_FD left in its env", got)
	}
	if err := c.Wait(); err != nil {
		t.Fatal(err)
	}
}

func TestForkEntryFailure(t *testing.T) {
	c, err := childproc.ForkEntry(context.Background(), failEntry, nil, &childproc.Options{Stdio: []any{childproc.Ignore, childproc.Ignore, childproc.Pipe, childproc.IPC}})
	if err != nil {
		t.Fatal(err)
	}
	stderr, _ := io.ReadAll(c.Stderr)
	err = c.Wait()
	var e *childproc.Error
	if !errors.As(err, &e) || e.ExitCode != 1 || !strings.Contains(string(stderr), "entry failed on purpose") {
		t.Fatalf("Wait %v, stderr %q", err, stderr)
	}
	// The parent's error names the entry and carries what it returned.
	if got, want := err.Error(), "entry 'test-fail' failed: entry failed on purpose"; got != want {
		t.Errorf("Wait: %q, want %q", got, want)
	}
	var ee *childproc.EntryError
	if !errors.As(err, &ee) || ee.Name != failEntry || ee.Message != "entry failed on purpose" {
		t.Errorf("Wait's error carries %#v, want the entry's own error", ee)
	}
	if _, err := childproc.ForkEntry(context.Background(), "no-such-entry", nil, nil); !isCode(err, childproc.CodeUnknownEntry) {
		t.Fatalf("unknown entry: %v", err)
	}
}

// An entry that fails without returning an error (here it panics) is
// named in Wait's error, with how its process ended.
func TestForkEntryCrashNamesEntry(t *testing.T) {
	err := forkQuietly(t, panicEntry)
	var ee *childproc.EntryError
	if err == nil || err.Error() != "entry 'test-panic' failed: exit status 2" || errors.As(err, &ee) {
		t.Fatalf("Wait: %v (entry error %v)", err, ee)
	}
}

// An entry's message travels cut to 4000 bytes, at a character boundary.
func TestForkEntryLongMessage(t *testing.T) {
	err := forkQuietly(t, longFailEntry)
	var ee *childproc.EntryError
	if !errors.As(err, &ee) || ee.Message != strings.Repeat("é", 2000) {
		t.Fatalf("Wait: %.100v (message of %d bytes)", err, len(ee.Message))
	}
}

// forkQuietly forks entry with its stdio ignored and returns what Wait
// returns.
func forkQuietly(t *testing.T, entry string) error {
	t.Helper()
	c, err := childproc.ForkEntry(context.Background(), entry, nil, &childproc.Options{Stdio: []any{childproc.Ignore, childproc.Ignore, childproc.Ignore, childproc.IPC}})
	if err != nil {
		t.Fatal(err)
	}
	return c.Wait()
}

// The child side's safety net: when the parent disconnects, the entry's
// context ends and the child exits.
func TestForkEntrySeesDisconnect(t *testing.T) {
	c, err := childproc.ForkEntry(context.Background(), waitEntry, nil, &childproc.Options{Silent: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := recvString(t, c); got != `"ready"` {
		t.Fatal(got)
	}
	if err := c.Disconnect(); err != nil {
		t.Fatal(err)
	}
	if err := c.Disconnect(); !isCode(err, childproc.CodeDisconnected) {
		t.Errorf("second Disconnect: %v", err)
	}
	select {
	case <-c.Disconnected():
	case <-time.After(5 * time.Second):
		t.Fatal("Disconnected not closed")
	}
	stderr, _ := io.ReadAll(c.Stderr)
	if err := c.Wait(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(stderr), "entry saw its parent go") {
		t.Errorf("stderr %q", stderr)
	}
}

// Node allows the IPC entry at any index; the child finds it through
// NODE_CHANNEL_FD.
func TestIPCEntryAtAnyIndex(t *testing.T) {
	c, err := childproc.Spawn(context.Background(), "node", []string{"-e",
		`process.on('message', (m) => { process.send({fd: process.channel.fd, echo: m}); process.disconnect(); })`},
		&childproc.Options{Stdio: []any{childproc.Ignore, childproc.Inherit, childproc.Inherit, nil, childproc.Ignore, childproc.IPC}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Send("hi"); err != nil {
		t.Fatal(err)
	}
	if got := recvString(t, c); got != `{"fd":5,"echo":"hi"}` {
		t.Fatalf("got %s", got)
	}
	if err := c.Wait(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Disconnected():
	default:
		t.Fatal("not disconnected after close")
	}
}

// A Silent Fork of a Node script pipes its stdio; Node's internal
// messages never reach Recv.
func TestForkNodeSilent(t *testing.T) {
	c, err := childproc.Fork(context.Background(), "ipc/testdata/echo_child.js", []string{"internal"}, &childproc.Options{Silent: true})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`{"cmd":"NODE_","shown":1}`, `{"cmd":"node_lower","shown":2}`, `{"cmd":5,"shown":3}`, `"last"`}
	for _, w := range want {
		if got := recvString(t, c); got != w {
			t.Fatalf("got %s, want %s", got, w)
		}
	}
	if c.Stdout == nil || c.Stdin == nil {
		t.Fatal("Silent did not pipe stdio")
	}
	c.Disconnect()
	c.Wait()
}

// A child that exits with more messages unreceived than the queue holds:
// Wait still returns (the channel reads on once the child has exited),
// then every message is received, then EOF. Node's 'disconnect' and
// 'close' come the same way.
func TestWaitWithMessagesUnreceived(t *testing.T) {
	c, err := childproc.Spawn(context.Background(), "sh", []string{"-c", "yes 1 | head -n 300 >&3"},
		&childproc.Options{Stdio: []any{childproc.Ignore, childproc.Inherit, childproc.Inherit, childproc.IPC}})
	if err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- c.Wait() }()
	select {
	case err := <-waited:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Wait blocked: the channel's end was never read")
	}
	if c.Connected() {
		t.Fatal("still connected after Wait")
	}
	for i := range 300 {
		m, err := c.Recv(t.Context())
		if err != nil || m.String() != "1" {
			t.Fatalf("message %d: %q %v", i, m.String(), err)
		}
	}
	if _, err := c.Recv(t.Context()); err != io.EOF {
		t.Fatalf("after the messages: %v, want io.EOF", err)
	}
}

// Options.Channel reaches the channel: a lower MaxMessageSize turns a
// larger message into ErrTooLarge.
func TestForkChannelOptions(t *testing.T) {
	c, err := childproc.Spawn(t.Context(), "sh", []string{"-c", `printf '"%s"\n' "$(head -c 2000 /dev/zero | tr '\0' a)" >&3; exec sleep 5`},
		&childproc.Options{Stdio: []any{childproc.Ignore, childproc.Inherit, childproc.Inherit, childproc.IPC},
			Channel: &ipc.Options{MaxMessageSize: 1024}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Wait()
	defer c.Kill(nil)
	_, err = c.Recv(t.Context())
	if !errors.Is(err, ipc.ErrTooLarge) {
		t.Fatalf("Recv: %v, want ErrTooLarge", err)
	}
}

// aliasCodec is the json codec under another name, to check that a
// codec registered by the program is accepted as Serialization.
type aliasCodec struct{ ipc.Codec }

func (aliasCodec) Name() string { return "json-alias" }

func TestForkRegisteredCodec(t *testing.T) {
	json, _ := ipc.LookupCodec("json")
	ipc.RegisterCodec(aliasCodec{json})
	c, err := childproc.Spawn(t.Context(), "sh", []string{"-c", `echo "$NODE_CHANNEL_SERIALIZATION_MODE" >&2; echo '"hi"' >&3`},
		&childproc.Options{Stdio: []any{childproc.Ignore, childproc.Inherit, childproc.Pipe, childproc.IPC}, Serialization: "json-alias"})
	if err != nil {
		t.Fatal(err)
	}
	mode, _ := io.ReadAll(c.Stderr)
	if got := recvString(t, c); got != `"hi"` || string(mode) != "json-alias\n" {
		t.Fatalf("got %s with mode %q", got, mode)
	}
	if err := c.Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := childproc.Spawn(t.Context(), "true", nil, &childproc.Options{Serialization: "no-such-codec"}); err == nil {
		t.Fatal("an unknown serialization was accepted")
	}
}

// A CHILDPROC_REEXEC naming an entry, left in the environment without a
// channel, does not hijack main: the program runs as usual. So does the
// variable of an earlier protocol, CHILDPROC_ENTRY.
func TestStrayEntryNameIgnored(t *testing.T) {
	for _, kv := range []string{"CHILDPROC_REEXEC=entry:test-echo", "CHILDPROC_ENTRY=test-echo"} {
		r := childproc.SpawnSync(os.Args[0], []string{"-test.run=^$"}, &childproc.Options{
			Env: append(os.Environ(), kv),
		})
		if r.Err != nil || r.Status != 0 || !strings.Contains(string(r.Stdout), "ok") && !strings.Contains(string(r.Stdout), "PASS") {
			t.Fatalf("%s: status %d, err %v, stdout %q, stderr %q", kv, r.Status, r.Err, r.Stdout, r.Stderr)
		}
	}
}
