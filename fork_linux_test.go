//go:build linux

package childproc_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/childproc/childproc"
)

// A child that survives its parent (SurviveParent) sees the channel end
// when the parent dies, even by SIGKILL: a Go entry reads EOF, a Node
// child gets 'disconnect'.
func TestChildSeesParentDeathAsEOF(t *testing.T) {
	dir := t.TempDir()
	parent := startHelperParent(t, "parent-ipc-survive", dir)
	parent.Process.Signal(syscall.SIGKILL)
	parent.Wait()
	for _, f := range []struct{ name, want string }{{"go", "EOF"}, {"node", "disconnect"}} {
		path := filepath.Join(dir, f.name)
		var got []byte
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if got, _ = os.ReadFile(path); len(got) > 0 {
				break
			}
		}
		if string(got) != f.want {
			t.Errorf("%s child wrote %q after its parent died, want %q", f.name, got, f.want)
		}
	}
}

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
