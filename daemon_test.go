//go:build linux

package childproc_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/childproc/childproc"
)

// daemonEnv makes TestDaemonHelper start an ssh-agent under KillTree.
const daemonEnv = "CHILDPROC_TEST_DAEMON"

// ssh-agent daemonizes the way that hides a process best from KillTree:
// it forks, the parent exits (the daemon is orphaned), the daemon calls
// setsid (it leaves the group) and makes itself non-dumpable
// (PR_SET_DUMPABLE 0), so that only a tracer may read its environment
// and the tree marker in it. As root (CAP_SYS_PTRACE) KillTree finds it
// by that marker; as any other user it cannot, the limit the package
// states: the agent outlives KillTree and Wait.
func TestKillTreeFindsNonDumpableDaemon(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root for both halves: the covered case and a parent running as nobody")
	}
	if _, err := exec.LookPath("ssh-agent"); err != nil {
		t.Skip("no ssh-agent")
	}
	t.Run("parent is root", func(t *testing.T) {
		agent, readable, err := daemonUnderKillTree()
		if err != nil {
			t.Fatal(err)
		}
		if !readable {
			t.Errorf("root could not read the agent's environment")
		}
		if processAlive(agent) {
			syscall.Kill(agent, syscall.SIGKILL)
			t.Fatalf("KillTree missed the daemonized, non-dumpable agent %d", agent)
		}
	})
	t.Run("parent is nobody", func(t *testing.T) {
		dir, err := os.MkdirTemp("", "childproc-daemon")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(dir)
		bin := filepath.Join(dir, "childproc.test")
		if err := copyExecutable(os.Args[0], bin); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "-test.run=^TestDaemonHelper$", "-test.v=false")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), daemonEnv+"=1", "HOME="+dir, "TMPDIR="+dir)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		out, err := cmd.CombinedOutput()
		m := regexp.MustCompile(`agent (\d+) readable (true|false)`).FindStringSubmatch(string(out))
		if err != nil || m == nil {
			t.Fatalf("helper as nobody: %v\n%s", err, out)
		}
		agent, _ := strconv.Atoi(m[1])
		defer syscall.Kill(agent, syscall.SIGKILL)
		if m[2] == "true" {
			t.Errorf("nobody could read its non-dumpable agent's environment")
		}
		if !processAlive(agent) {
			t.Fatalf("the agent %d is gone: the stated limit no longer holds, state what KillTree reaches anew", agent)
		}
	})
}

// TestDaemonHelper is not a test: it runs daemonUnderKillTree for
// TestKillTreeFindsNonDumpableDaemon as another user.
func TestDaemonHelper(t *testing.T) {
	if os.Getenv(daemonEnv) == "" {
		t.Skip("runs only as TestKillTreeFindsNonDumpableDaemon's helper")
	}
	agent, readable, err := daemonUnderKillTree()
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Printf("agent %d readable %v\n", agent, readable)
	os.Exit(0)
}

// daemonUnderKillTree starts ssh-agent in a KillTree child, waits for the
// child, then stops the tree with KillTree(SIGKILL). It returns the
// agent's pid and whether this process could read its environment.
func daemonUnderKillTree() (agent int, readable bool, err error) {
	c, err := childproc.Spawn(context.Background(), "ssh-agent", []string{"-s"}, &childproc.Options{
		Stdio:    []any{childproc.Ignore, childproc.Pipe, childproc.Inherit},
		KillTree: true,
	})
	if err != nil {
		return 0, false, err
	}
	out, err := io.ReadAll(bufio.NewReader(c.Stdout))
	if err != nil {
		return 0, false, err
	}
	if err := c.Wait(); err != nil {
		return 0, false, err
	}
	m := regexp.MustCompile(`SSH_AGENT_PID=(\d+)`).FindSubmatch(out)
	if m == nil {
		return 0, false, fmt.Errorf("ssh-agent said %q", out)
	}
	agent, _ = strconv.Atoi(string(m[1]))
	env, err := os.ReadFile("/proc/" + strconv.Itoa(agent) + "/environ")
	readable = err == nil && strings.Contains(string(env), "CHILDPROC_TREE=")
	c.KillTree(syscall.SIGKILL)
	gone(agent, 2*time.Second)
	return agent, readable, nil
}

// copyExecutable copies the file at from to a new executable file to.
func copyExecutable(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o755)
}
