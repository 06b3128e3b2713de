//go:build unix

package ipc_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/childproc/childproc/ipc"
)

// socketPair returns two connected ends as Channels' raw material: the
// first is ours, the second is for a child or a test writer.
func socketPair(t testing.TB) (*os.File, *os.File) {
	t.Helper()
	fds := ipc.SocketPair(t)
	return os.NewFile(uintptr(fds[0]), "ours"), os.NewFile(uintptr(fds[1]), "theirs")
}

// startChild runs name with args, its fd 3 the far end of a new channel,
// and returns our end.
func startChild(t testing.TB, opts *ipc.Options, name string, args ...string) (*ipc.Channel, *exec.Cmd) {
	t.Helper()
	ours, theirs := socketPair(t)
	cmd := exec.Command(name, args...)
	cmd.ExtraFiles = []*os.File{theirs}
	mode := "json"
	if opts != nil && opts.Serialization != "" {
		mode = opts.Serialization
	}
	cmd.Env = append(os.Environ(), "NODE_CHANNEL_FD=3", "NODE_CHANNEL_SERIALIZATION_MODE="+mode)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	theirs.Close()
	ch, err := ipc.NewFile(ours, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ch.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	return ch, cmd
}

func nodeChild(t testing.TB, mode string) (*ipc.Channel, *exec.Cmd) {
	return startChild(t, nil, "node", "testdata/echo_child.js", mode)
}

// goChild builds testdata/gochild once per test and starts it.
func goChildPath(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "gochild")
	if out, err := exec.Command("go", "build", "-o", path, "./testdata/gochild").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return path
}

func recv(t testing.TB, ch *ipc.Channel) ipc.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	m, err := ch.Recv(ctx)
	if err != nil {
		t.Fatalf("Recv: %v", err)
	}
	return m
}

// trickyMessages are sent as raw JSON in the exact form Node itself
// writes (compact, non-ASCII as raw UTF-8, lone surrogates escaped), so
// a Node echo must send back the same bytes.
var trickyMessages = []string{
	"{\"a\":1,\"s\":\"line\\nbreak \u2028 \u2029 é 😀\",\"nested\":{\"b\":[true,null,\"x\"]}}",
	`"plain string"`, `1.5`, `null`, `true`, `[1,2,3]`, `"\ud800"`, `"\udfff\ud83d"`,
	`{"cmd":"NODE_","shown":true}`, `{"cmd":"node_lower"}`, `""`, `0`, `-1e+300`,
	`"` + strings.Repeat("x", 8<<20) + `"`,
	"\"" + strings.Repeat("é😀\u2028", 100000) + "\"",
}
