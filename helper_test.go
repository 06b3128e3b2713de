//go:build linux

package childproc_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/childproc/childproc"
	"github.com/childproc/childproc/ipc"
)

// The helper parents: registered entries that a test forks with
// forkHelperParent and SIGKILLs. Each starts children of its own, marked
// with CHILDPROC_TEST_MARK=args[0], prints "ready" and waits to be killed.
var (
	// parentEntry starts 20 children.
	parentEntry = registerParent("test-parent", childproc.Options{})
	// parentTreeEntry starts 20 KillTree children, each with
	// grandchildren that ignore SIGTERM, leave the process group or just
	// sleep.
	parentTreeEntry = registerParent("test-parent-tree", childproc.Options{KillTree: true})
	// parentSurviveEntry starts 20 SurviveParent children.
	parentSurviveEntry = registerParent("test-parent-survive", childproc.Options{SurviveParent: true})
	// parentDetachedEntry starts 20 Detached children.
	parentDetachedEntry = registerParent("test-parent-detached", childproc.Options{Detached: true})
	// parentIPCSurviveEntry starts a Go entry child and a Node child that
	// outlive it and report how their channel ended into files in the
	// folder args[0].
	parentIPCSurviveEntry = childproc.RegisterEntry("test-parent-ipc-survive", func(ctx context.Context, ch *ipc.Channel, args []string) error {
		dir := args[0]
		survive := &childproc.Options{SurviveParent: true, Stdio: []any{childproc.Ignore, childproc.Inherit, childproc.Inherit, childproc.IPC}}
		g, err := childproc.ForkEntry(context.Background(), eofEntry, []string{filepath.Join(dir, "go")}, survive)
		if err != nil {
			return err
		}
		n, err := childproc.Spawn(context.Background(), "node", []string{"-e",
			"process.on('disconnect', () => require('fs').writeFileSync(process.argv[1], 'disconnect')); process.on('message', () => {}); process.send('ready');",
			filepath.Join(dir, "node")}, survive)
		if err != nil {
			return err
		}
		for _, c := range []*childproc.Child{g, n} {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			_, err := c.Recv(ctx)
			cancel()
			if err != nil {
				return fmt.Errorf("no ready: %w", err)
			}
		}
		fmt.Println("ready")
		select {}
	})
)

// registerParent registers a helper parent called name that starts 20
// children under sh with opts (and ForceKillAfter 300ms).
func registerParent(name string, opts childproc.Options) string {
	script := "exec sleep 1000"
	if opts.KillTree {
		script = "(trap '' TERM; exec sleep 1000) & setsid sleep 1000 & sleep 1000 & wait"
	}
	opts.ForceKillAfter = 300 * time.Millisecond
	return childproc.RegisterEntry(name, func(ctx context.Context, ch *ipc.Channel, args []string) error {
		for range 20 {
			if _, err := spawnMarked(args[0], script, opts); err != nil {
				return err
			}
		}
		if opts.KillTree {
			time.Sleep(200 * time.Millisecond) // let the grandchildren start
		}
		fmt.Println("ready")
		select {}
	})
}

// forkHelperParent forks the helper parent entry with mark and waits for
// its "ready".
func forkHelperParent(t *testing.T, entry, mark string) *childproc.Child {
	t.Helper()
	c, err := childproc.ForkEntry(context.Background(), entry, []string{mark}, &childproc.Options{
		Stdio: []any{childproc.Ignore, childproc.Pipe, childproc.Inherit, childproc.IPC},
	})
	if err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(c.Stdout).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "ready" {
		c.Kill(syscall.SIGKILL)
		c.Wait()
		t.Fatalf("helper parent: %q %v", line, err)
	}
	return c
}

// markedProcesses returns the live (non-zombie) processes whose
// environment holds CHILDPROC_TEST_MARK=mark.
func markedProcesses(mark string) []int {
	needle := []byte("CHILDPROC_TEST_MARK=" + mark + "\x00")
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		env, err := os.ReadFile("/proc/" + e.Name() + "/environ")
		if err != nil || !(bytes.HasPrefix(env, needle) || bytes.Contains(env, append([]byte{0}, needle...))) {
			continue
		}
		if stat, err := os.ReadFile("/proc/" + e.Name() + "/stat"); err == nil {
			if i := bytes.LastIndexByte(stat, ')'); i > 0 && strings.HasPrefix(string(stat[i+1:]), " Z") {
				continue
			}
		}
		pids = append(pids, pid)
	}
	return pids
}

// waitGone polls until no marked process is left or the deadline passes.
func waitGone(mark string, within time.Duration) []int {
	deadline := time.Now().Add(within)
	for {
		left := markedProcesses(mark)
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func killAll(pids []int) {
	for _, p := range pids {
		syscall.Kill(p, syscall.SIGKILL)
	}
}

// allocatorPath builds testdata/allocator without the race detector, whose
// runtime alone needs more memory than the caps under test.
func allocatorPath(t *testing.T) string {
	return buildProgram(t, t.TempDir(), "allocator")
}
