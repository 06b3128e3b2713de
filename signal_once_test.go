//go:build linux

package childproc_test

import (
	"bufio"
	"context"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/childproc/childproc"
)

// KillTree delivers its signal once to each process of the tree: the
// child, a grandchild in its group and one that left it. A second
// SIGINT or SIGTERM means "quit now" to many programs.
func TestKillTreeSignalsEachProcessOnce(t *testing.T) {
	script := `trap 'echo child-TERM' TERM
sh -c 'trap "echo grand-TERM" TERM; echo ready; while :; do sleep 0.05; done' &
setsid sh -c 'trap "echo away-TERM" TERM; while :; do sleep 0.05; done' &
while :; do sleep 0.05; done`
	c, err := childproc.Spawn(context.Background(), "sh", []string{"-c", script}, &childproc.Options{KillTree: true, Stdio: []any{childproc.Ignore, nil, childproc.Ignore}})
	if err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(c.Stdout)
	if line, _ := r.ReadString('\n'); line != "ready\n" {
		t.Fatalf("read %q", line)
	}
	time.Sleep(200 * time.Millisecond) // the setsid one is up
	if err := c.KillTree(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	c.KillTree(syscall.SIGKILL)
	var out strings.Builder
	for {
		line, err := r.ReadString('\n')
		out.WriteString(line)
		if err != nil {
			break
		}
	}
	c.Wait()
	for _, who := range []string{"child-TERM", "grand-TERM", "away-TERM"} {
		if n := strings.Count(out.String(), who); n != 1 {
			t.Errorf("%s seen %d times, want once; output:\n%s", who, n, out.String())
		}
	}
}
