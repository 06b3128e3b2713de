//go:build linux

package childproc_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/childproc/childproc"
)

// A graceful stop of a child without Options.KillTree reaches, with its
// SIGKILL, what a pinned descendant started after the KillSignal: here
// the shell dies of SIGTERM, its grandchild ignores it (it traps it) and
// answers it by starting a sleep that ignores SIGTERM too. After
// ForceKillAfter nothing of the tree may be left running, though the
// sleep was not there when the stop pinned the tree.
func TestAttackStopReachesWhatAPinnedMemberForksLater(t *testing.T) {
	dir := t.TempDir()
	g := filepath.Join(dir, "g.sh")
	script := "trap '(trap \"\" TERM; exec sleep 120) &' TERM\nwhile :; do sleep 0.05; done\n"
	if err := os.WriteFile(g, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	mark := uniqueMark(t)
	c, err := childproc.Spawn(context.Background(), "sh", []string{"-c", "sh " + g + " & wait"}, &childproc.Options{
		Env:            append(os.Environ(), "CHILDPROC_TEST_MARK="+mark),
		ForceKillAfter: 500 * time.Millisecond,
		Stdio:          []any{childproc.Ignore, childproc.Ignore, childproc.Ignore},
	})
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); len(markedProcesses(mark)) < 3 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if err := c.KillTree(nil); err != nil {
		t.Fatal(err)
	}
	if e := asError(t, waitFor(t, c)); e.Signal != "SIGTERM" {
		t.Fatalf("Wait: %v, want the shell ended by SIGTERM", e)
	}
	if left := waitGone(mark, 5*time.Second); len(left) > 0 {
		killAll(left)
		t.Fatalf("%d processes left running 5 s after the stop (ForceKillAfter 500 ms): %v", len(left), left)
	}
}

// A graceful stop of a KillTree child reaches a process that keeps
// forking its successor and exiting: each generation lives about 10 ms,
// ignores SIGTERM and stays in the child's group, so that a single look
// at /proc, which takes longer, often sees none of them alive. The stop
// must neither end early on such a look nor let its SIGKILL miss them:
// after ForceKillAfter nothing of the tree is left, in each of 3 rounds.
func TestAttackStopReachesAWalkerThatForksAndExits(t *testing.T) {
	w := filepath.Join(t.TempDir(), "w.sh")
	if err := os.WriteFile(w, []byte("trap '' TERM\nsleep 0.01\nsh "+w+" &\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for round := range 3 {
		mark := uniqueMark(t)
		c, err := childproc.Spawn(context.Background(), "sh", []string{"-c", "sh " + w + " & exec sleep 120"}, &childproc.Options{
			Env:            append(os.Environ(), "CHILDPROC_TEST_MARK="+mark),
			KillTree:       true,
			ForceKillAfter: time.Second,
			Stdio:          []any{childproc.Ignore, childproc.Ignore, childproc.Ignore},
		})
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
		if err := c.KillTree(nil); err != nil {
			t.Fatal(err)
		}
		waitFor(t, c)
		time.Sleep(2 * time.Second) // ForceKillAfter and a second
		if left := markedProcesses(mark); len(left) > 0 {
			for ; len(left) > 0; left = markedProcesses(mark) {
				killAll(left)
				time.Sleep(20 * time.Millisecond)
			}
			t.Fatalf("round %d: the walker outlived the stop by a second", round)
		}
	}
}
