//go:build unix

package childproc_test

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/childproc/childproc"
)

// Fork runs .cjs and .mjs modules with ExecPath and ExecArgv.
func TestForkExecPathModules(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	modules := map[string]string{
		"echo.cjs": "process.on('message', (m) => { process.send({ m, argv: process.execArgv, type: typeof require }); });",
		"echo.mjs": "process.on('message', (m) => { process.send({ m, argv: process.execArgv, type: typeof require }); });",
	}
	want := map[string]string{
		"echo.cjs": `{"m":"hi","argv":["--no-warnings"],"type":"function"}`,
		"echo.mjs": `{"m":"hi","argv":["--no-warnings"],"type":"undefined"}`,
	}
	for name, src := range modules {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := childproc.Fork(t.Context(), path, nil, &childproc.Options{ExecPath: node, ExecArgv: []string{"--no-warnings"}})
		if err != nil {
			t.Fatal(err)
		}
		c.Send("hi")
		if got := recvString(t, c); got != want[name] {
			t.Errorf("%s: got %s, want %s", name, got, want[name])
		}
		c.Disconnect() // the child ends once its channel has
		if err := c.Wait(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
}

// A program that forgets childproc.RunEntry in main: its forked child
// runs main, whose own ForkEntry fails with CodeEntryNotRun (so it never
// forks again), and the parent's Wait reports CodeEntryNotRun saying what
// to add. The program stops itself at the third generation, so that a
// childproc that misses the mistake fails this test rather than forking
// without end.
func TestForgottenRunEntry(t *testing.T) {
	bin := buildProgram(t, t.TempDir(), "norunentry")
	checkForgottenRunEntry(t, childproc.SpawnSync(bin, nil, &childproc.Options{
		Env:     append(os.Environ(), "NORUNENTRY_DEPTH=0"),
		Timeout: time.Minute,
	}))
}

// The same in a test binary without a TestMain.
func TestForgottenRunEntryInTestBinary(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "notestmain.test")
	if out, err := exec.Command("go", "test", "-c", "-o", bin, "./testdata/notestmain").CombinedOutput(); err != nil {
		t.Fatalf("go test -c: %v\n%s", err, out)
	}
	checkForgottenRunEntry(t, childproc.SpawnSync(bin, []string{"-test.run=^TestForkWorker$"}, &childproc.Options{
		Env:     append(os.Environ(), "NOTESTMAIN_DEPTH=0"),
		Timeout: time.Minute,
	}))
}

func checkForgottenRunEntry(t *testing.T, r *childproc.SyncResult) {
	t.Helper()
	out := string(r.Stdout)
	if r.Status < 0 || strings.Contains(out, "runaway") || strings.Contains(out, "generation 2") {
		t.Fatalf("status %d, %v: the program forked itself again and again:\n%s%s", r.Status, r.Err, out, r.Stderr)
	}
	for _, want := range []string{
		"generation 1: ForkEntry: " + childproc.CodeEntryNotRun + ": ForkEntry 'worker' in a process forked into entry 'worker' that runs main instead: call childproc.RunEntry() first in main (in a test binary, first in TestMain)\n",
		"generation 0: Wait: " + childproc.CodeEntryNotRun + ": entry 'worker' never ran: the forked process ran main instead; call childproc.RunEntry() first in main (in a test binary, first in TestMain)\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s%s", want, out, r.Stderr)
		}
	}
}

// Child.SendContext gives up when its ctx ends while a child that reads
// nothing leaves the channel full; the channel stays open. A child
// without a channel gives ERR_IPC_CHANNEL_CLOSED.
func TestChildSendContext(t *testing.T) {
	c, err := childproc.Spawn(context.Background(), "sleep", []string{"30"}, &childproc.Options{
		Stdio: []any{childproc.Ignore, childproc.Ignore, childproc.Ignore, childproc.IPC},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { c.Kill(syscall.SIGKILL); c.Wait() }()
	payload := strings.Repeat("x", 4096)
	for i := 0; ; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		err = c.SendContext(ctx, payload)
		cancel()
		if err != nil || i > 1<<16 {
			break
		}
	}
	if !errors.Is(err, context.DeadlineExceeded) || !c.Connected() {
		t.Errorf("SendContext to a child that reads nothing: %v (connected %v), want DeadlineExceeded on an open channel", err, c.Connected())
	}
	plain, err := childproc.Spawn(context.Background(), "true", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantCode(t, plain.SendContext(context.Background(), "x"), childproc.CodeChannelClosed)
	waitFor(t, plain)
}

// Node: test-child-process-fork, test-child-process-fork-net (messages),
// test-child-process-fork-stdio (silent), test-child-process-fork-exec-argv,
// test-child-process-fork-stdio-string-variant (ipc required).
func TestPortFork(t *testing.T) {
	t.Parallel()
	recv := func(t *testing.T, c *childproc.Child) any {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), long)
		defer cancel()
		m, err := c.Recv(ctx)
		if err != nil {
			t.Fatalf("Recv: %v", err)
		}
		var v any
		if err := m.Decode(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}

	t.Run("echo", func(t *testing.T) {
		t.Parallel()
		c, err := childproc.Fork(t.Context(), "testdata/port/echo.js", []string{"x", "y z"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if c.Spawnfile() != "node" || !slices.Equal(c.Spawnargs(), []string{"node", "testdata/port/echo.js", "x", "y z"}) {
			t.Fatalf("spawnfile %q spawnargs %q", c.Spawnfile(), c.Spawnargs())
		}
		for _, msg := range []any{"hello", map[string]any{"n": 1.0, "list": []any{"a", true, nil}}, 2.5} {
			if err := c.Send(msg); err != nil {
				t.Fatal(err)
			}
			if got := recv(t, c); !portEqualJSON(got, msg) {
				t.Fatalf("sent %v, got back %v", msg, got)
			}
		}
		c.Send("argv")
		if got := recv(t, c); !portEqualJSON(got, []any{"x", "y z"}) {
			t.Fatalf("argv %v", got)
		}
		c.Send("exit")
		if err := waitFor(t, c); err != nil {
			t.Fatal(err)
		}
		if c.Connected() {
			t.Fatal("connected after exit")
		}
	})

	t.Run("silent", func(t *testing.T) {
		t.Parallel()
		c, err := childproc.Fork(t.Context(), "testdata/port/echo.js", []string{"--hello"}, &childproc.Options{Silent: true})
		if err != nil {
			t.Fatal(err)
		}
		if c.Stdin == nil || c.Stdout == nil || c.Stderr == nil {
			t.Fatal("Silent fork without pipes")
		}
		line, err := bufio.NewReader(c.Stdout).ReadString('\n')
		if err != nil || line != "hello\n" {
			t.Fatalf("child stdout %q %v", line, err)
		}
		c.Send("exit")
		if err := waitFor(t, c); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("execArgv", func(t *testing.T) {
		t.Parallel()
		c, err := childproc.Fork(t.Context(), "testdata/port/echo.js", nil, &childproc.Options{ExecArgv: []string{"--max-old-space-size=64", "--no-warnings"}, Silent: true})
		if err != nil {
			t.Fatal(err)
		}
		c.Send("execArgv")
		if got := recv(t, c); !portEqualJSON(got, []any{"--max-old-space-size=64", "--no-warnings"}) {
			t.Fatalf("execArgv %v", got)
		}
		c.Send("exit")
		if err := waitFor(t, c); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("IPC required", func(t *testing.T) {
		t.Parallel()
		_, err := childproc.Fork(t.Context(), "testdata/port/echo.js", nil, &childproc.Options{Stdio: []any{childproc.Pipe, childproc.Pipe, childproc.Pipe}})
		wantCode(t, err, childproc.CodeIPCRequired)
		c, err := childproc.Fork(t.Context(), "testdata/port/echo.js", nil, &childproc.Options{Stdio: []any{childproc.Ignore, childproc.Ignore, childproc.Ignore, childproc.Ignore, childproc.IPC}})
		if err != nil {
			t.Fatal(err)
		}
		c.Send("ping")
		if got := recv(t, c); got != "ping" {
			t.Fatalf("IPC at fd 4: %v", got)
		}
		c.Disconnect()
		if err := waitFor(t, c); err != nil {
			t.Fatal(err)
		}
	})
}
