//go:build linux

package childproc_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/childproc/childproc"
)

// helperEnv selects what TestHelperProcess does when the test binary runs
// itself as a helper (a parent to be SIGKILLed, a child that allocates).
const helperEnv = "CHILDPROC_TEST_HELPER"

// TestHelperProcess is not a test: it is the body of helper processes
// started by other tests through helperCommand.
func TestHelperProcess(t *testing.T) {
	mode := os.Getenv(helperEnv)
	if mode == "" {
		t.Skip("runs only as a helper process")
	}
	os.Exit(runHelper(mode))
}

func runHelper(mode string) int {
	mark := os.Getenv("CHILDPROC_TEST_PARENT_MARK")
	switch mode {
	case "own-ids":
		// Not root here: setting one's own uid and gid must work, as in Node.
		uid, gid := os.Getuid(), os.Getgid()
		r := childproc.SpawnSync("sh", []string{"-c", "echo $(id -u) $(id -g)"}, &childproc.Options{UID: &uid, GID: &gid})
		if r.Err != nil || r.Status != 0 {
			fmt.Println("error:", r.Err, r.Status)
			return 1
		}
		fmt.Printf("%s", r.Stdout)
		return 0
	case "parent-ipc-survive":
		// A Go entry child and a Node child that outlive this process
		// and report how their channel ended into files in dir (mark).
		survive := &childproc.Options{SurviveParent: true, Stdio: []any{childproc.Ignore, childproc.Inherit, childproc.Inherit, childproc.IPC}}
		g, err := childproc.ForkEntry(context.Background(), eofEntry, []string{filepath.Join(mark, "go")}, survive)
		if err != nil {
			fmt.Fprintln(os.Stderr, "helper:", err)
			return 1
		}
		n, err := childproc.Spawn(context.Background(), "node", []string{"-e",
			"process.on('disconnect', () => require('fs').writeFileSync(process.argv[1], 'disconnect')); process.on('message', () => {}); process.send('ready');",
			filepath.Join(mark, "node")}, survive)
		if err != nil {
			fmt.Fprintln(os.Stderr, "helper:", err)
			return 1
		}
		for _, c := range []*childproc.Child{g, n} {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			_, err := c.Recv(ctx)
			cancel()
			if err != nil {
				fmt.Fprintln(os.Stderr, "helper: no ready:", err)
				return 1
			}
		}
		fmt.Println("ready")
		select {}
	case "parent", "parent-tree", "parent-survive", "parent-detached":
		// Start 20 children, say so, then wait to be killed.
		tree := mode == "parent-tree"
		script := "exec sleep 1000"
		if tree {
			// Each child starts grandchildren: one ignores SIGTERM, one
			// leaves the process group, one just sleeps.
			script = "(trap '' TERM; exec sleep 1000) & setsid sleep 1000 & sleep 1000 & wait"
		}
		for i := 0; i < 20; i++ {
			_, err := childproc.Spawn(context.Background(), "sh", []string{"-c", script}, &childproc.Options{
				Env:            append(os.Environ(), "CHILDPROC_TEST_MARK="+mark),
				Stdio:          []any{childproc.Ignore, childproc.Ignore, childproc.Inherit},
				KillTree:       tree,
				ForceKillAfter: 300 * time.Millisecond,
				SurviveParent:  mode == "parent-survive",
				Detached:       mode == "parent-detached",
			})
			if err != nil {
				fmt.Fprintln(os.Stderr, "helper:", err)
				return 1
			}
		}
		if tree {
			time.Sleep(200 * time.Millisecond) // let the grandchildren start
		}
		fmt.Println("ready")
		select {}
	}
	if code, ok := guardianHelper(mode, mark); ok {
		return code
	}
	fmt.Fprintln(os.Stderr, "unknown helper mode", mode)
	return 2
}

// helperArgs are the arguments that run this test binary as a helper.
func helperArgs() []string { return []string{"-test.run=^TestHelperProcess$", "-test.v=false"} }

func helperEnvFor(mode, mark string) []string {
	return append(os.Environ(), helperEnv+"="+mode, "CHILDPROC_TEST_PARENT_MARK="+mark)
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

// startHelperParent starts a helper parent in mode and waits for "ready".
func startHelperParent(t *testing.T, mode, mark string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], helperArgs()...)
	cmd.Env = helperEnvFor(mode, mark)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "ready" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("helper parent: %q %v", line, err)
	}
	return cmd
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

// buildProgram builds the program testdata/name into dir, without the
// race detector, and returns its path.
func buildProgram(t *testing.T, dir, name string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if out, err := exec.Command("go", "build", "-o", path, "./testdata/"+name).CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return path
}
