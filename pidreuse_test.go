//go:build linux

package childproc_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/childproc/childproc"
)

// pidReuseEnv makes TestPidReuseHelper run the pid-reuse scenarios.
const pidReuseEnv = "CHILDPROC_TEST_PIDREUSE"

// No signal of a child reaches a process that took its pid or its
// process group number after it was reaped: KillTree after Wait, and the
// SIGKILL of a graceful stop that comes after the child's death. The
// scenarios run in a pid namespace of their own, where this test, as
// root, picks the next pid (/proc/sys/kernel/ns_last_pid) and so gives a
// stranger the reaped child's pid.
func TestSignalsNeverReachReusedPid(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root: a pid namespace of its own and ns_last_pid")
	}
	cmd := exec.Command("unshare", "--pid", "--fork", "--mount-proc", os.Args[0], "-test.run=^TestPidReuseHelper$", "-test.v=false")
	cmd.Env = append(os.Environ(), pidReuseEnv+"=1")
	out, err := cmd.CombinedOutput()
	if strings.HasPrefix(string(out), "unshare:") {
		t.Skipf("no pid namespace: %s", out)
	}
	ran := 0
	for _, line := range strings.Split(string(out), "\n") {
		switch {
		case strings.HasPrefix(line, "ok "):
			ran++
		case strings.HasPrefix(line, "FAIL "):
			t.Error(strings.TrimPrefix(line, "FAIL "))
		}
	}
	if err != nil || ran == 0 {
		t.Fatalf("scenarios: %v\n%s", err, out)
	}
}

// TestPidReuseHelper is not a test: it runs the scenarios of
// TestSignalsNeverReachReusedPid inside their pid namespace.
func TestPidReuseHelper(t *testing.T) {
	if os.Getenv(pidReuseEnv) == "" {
		t.Skip("runs only inside TestSignalsNeverReachReusedPid's pid namespace")
	}
	failed := false
	for _, s := range pidReuseScenarios {
		err := s.run()
		for try := 0; errors.Is(err, errPidTaken) && try < 5; try++ {
			err = s.run() // a thread of this process took the pid: again, with another
		}
		if err != nil {
			fmt.Printf("FAIL %s: %v\n", s.name, err)
			failed = true
			continue
		}
		fmt.Printf("ok %s\n", s.name)
	}
	if failed {
		os.Exit(1)
	}
	os.Exit(0)
}

var quietStdio = []any{childproc.Ignore, childproc.Ignore, childproc.Ignore}

var pidReuseScenarios = []struct {
	name string
	run  func() error
}{
	{"KillTree after Wait, stranger leads a group with the child's number", func() error {
		return killTreeAfterWait(&childproc.Options{Stdio: quietStdio, KillTree: true}, true)
	}},
	{"KillTree after Wait, no Options.KillTree, stranger with a child of its own", func() error {
		return killTreeAfterWait(&childproc.Options{Stdio: quietStdio}, false)
	}},
	{"Detached: KillTree after Wait, stranger leads a group with the child's number", func() error {
		return killTreeAfterWait(&childproc.Options{Stdio: quietStdio, Detached: true}, true)
	}},
	{"ForceKillAfter of KillTree(nil) runs out after the reap", func() error {
		c, err := childproc.Spawn(context.Background(), "sleep", []string{"60"}, &childproc.Options{Stdio: quietStdio, KillTree: true, ForceKillAfter: time.Second})
		if err != nil {
			return err
		}
		if err := c.KillTree(nil); err != nil {
			return err
		}
		return strangerOutlivesTimer(c)
	}},
	{"ForceKillAfter of Timeout runs out after the reap", func() error {
		c, err := childproc.Spawn(context.Background(), "sleep", []string{"60"}, &childproc.Options{Stdio: quietStdio, KillTree: true, Timeout: 100 * time.Millisecond, ForceKillAfter: time.Second})
		if err != nil {
			return err
		}
		return strangerOutlivesTimer(c)
	}},
	{"a group member left after the reap is still reached", func() error {
		// The sleep clears its environment (no marker) and is orphaned:
		// only its group and start time make it the tree's.
		c, err := childproc.Spawn(context.Background(), "sh", []string{"-c", "env -i sleep 60 >/dev/null & echo $!; sleep 0.1"}, &childproc.Options{Stdio: []any{childproc.Ignore, childproc.Pipe, childproc.Ignore}, KillTree: true})
		if err != nil {
			return err
		}
		line, err := bufio.NewReader(c.Stdout).ReadString('\n')
		if err != nil {
			return err
		}
		left, _ := strconv.Atoi(strings.TrimSpace(line))
		c.Wait()
		if !processAlive(left) {
			return fmt.Errorf("the sleep %d is gone before KillTree", left)
		}
		if err := c.KillTree(syscall.SIGKILL); err != nil {
			return fmt.Errorf("KillTree: %v", err)
		}
		if !gone(left, 5*time.Second) {
			syscall.Kill(left, syscall.SIGKILL)
			return fmt.Errorf("the sleep %d outlived KillTree", left)
		}
		return nil
	}},
}

// killTreeAfterWait runs a child with opts to its end, gives a stranger
// its pid (leading a group when group is set), and checks that KillTree
// then reaches neither the stranger nor the stranger's child.
func killTreeAfterWait(opts *childproc.Options, group bool) error {
	c, err := childproc.Spawn(context.Background(), "true", nil, opts)
	if err != nil {
		return err
	}
	c.Wait()
	s, err := startStranger(c.Pid(), group)
	if err != nil {
		return err
	}
	defer s.stop()
	err = c.KillTree(syscall.SIGTERM)
	if err := s.check(300 * time.Millisecond); err != nil {
		return err
	}
	var e *childproc.Error
	if !errors.As(err, &e) || e.Code != "ESRCH" {
		return fmt.Errorf("KillTree after Wait: %v, want ESRCH", err)
	}
	return nil
}

// strangerOutlivesTimer waits for c, which dies of KillSignal while its
// ForceKillAfter timer is armed, gives a stranger its pid and group
// number, and checks that the timer's SIGKILL misses the stranger.
func strangerOutlivesTimer(c *childproc.Child) error {
	c.Wait()
	if c.SignalCode() != "SIGTERM" {
		return fmt.Errorf("child ended with %q, want SIGTERM", c.SignalCode())
	}
	s, err := startStranger(c.Pid(), true)
	if err != nil {
		return err
	}
	defer s.stop()
	return s.check(1500 * time.Millisecond)
}

// A stranger is a process that took a reaped child's pid, with a child
// of its own.
type stranger struct {
	cmd   *exec.Cmd
	child int
}

// errPidTaken is startStranger's error when the pid went to another
// process or thread (of this process: the runtime starts threads, and a
// thread id is a pid).
var errPidTaken = errors.New("the pid was taken by another process or thread")

// startStranger starts sh with pid (in a group of its own when group is
// set), retrying while something else takes the pid first.
func startStranger(pid int, group bool) (*stranger, error) {
	for try := 0; try < 10; try++ {
		if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); err == nil {
			return nil, errPidTaken
		}
		if err := os.WriteFile("/proc/sys/kernel/ns_last_pid", []byte(strconv.Itoa(pid-1)), 0); err != nil {
			return nil, err
		}
		cmd := exec.Command("sh", "-c", "sleep 60 & echo $!; wait")
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: group}
		out, err := cmd.StdoutPipe()
		if err != nil {
			return nil, err
		}
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		if cmd.Process.Pid != pid {
			cmd.Process.Kill()
			cmd.Wait()
			continue
		}
		line, err := bufio.NewReader(out).ReadString('\n')
		child, _ := strconv.Atoi(strings.TrimSpace(line))
		if err != nil || child <= 1 {
			cmd.Process.Kill()
			cmd.Wait()
			return nil, fmt.Errorf("stranger's child: %q %v", line, err)
		}
		return &stranger{cmd, child}, nil
	}
	return nil, errPidTaken
}

// check reports an error if the stranger or its child dies within d.
func (s *stranger) check(d time.Duration) error {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if !processAlive(s.cmd.Process.Pid) || !processAlive(s.child) {
			return fmt.Errorf("a signal reached the stranger that reused pid %d (stranger alive %v, its child alive %v)",
				s.cmd.Process.Pid, processAlive(s.cmd.Process.Pid), processAlive(s.child))
		}
	}
	return nil
}

func (s *stranger) stop() {
	syscall.Kill(s.child, syscall.SIGKILL)
	s.cmd.Process.Kill()
	s.cmd.Wait()
}

// processAlive reports whether pid is a live process (not a zombie).
func processAlive(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(stat), ')')
	return i > 0 && !strings.HasPrefix(string(stat[i+1:]), " Z")
}

// gone waits up to d for pid to be no live process.
func gone(pid int, d time.Duration) bool {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if !processAlive(pid) {
			return true
		}
	}
	return !processAlive(pid)
}

// A tree marker is this process's own: a process that carries a marker of
// an earlier process with the same pid ("<pid>.<n>", as a SurviveParent
// tree of that process would) is no member of any tree here.
func TestTreeMarkerIsThisProcesssOwn(t *testing.T) {
	pid := strconv.Itoa(os.Getpid())
	env := os.Environ()
	var strangers []*exec.Cmd
	for _, n := range []int{1, 2, 3, 50, 200} {
		cmd := exec.Command("sleep", "60")
		cmd.Env = append(append([]string(nil), env...), "CHILDPROC_TREE="+pid+"."+strconv.Itoa(n))
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		strangers = append(strangers, cmd)
	}
	defer func() {
		for _, s := range strangers {
			s.Process.Kill()
			s.Wait()
		}
	}()
	for i := 0; i < 3; i++ {
		c, err := childproc.Spawn(context.Background(), "sleep", []string{"60"}, &childproc.Options{KillTree: true, Stdio: []any{childproc.Ignore, childproc.Ignore, childproc.Ignore}})
		if err != nil {
			t.Fatal(err)
		}
		c.KillTree(syscall.SIGKILL)
		c.Wait()
	}
	for _, s := range strangers {
		if !alive(s.Process.Pid) {
			t.Fatalf("a stranger carrying %s was killed", s.Env[len(s.Env)-1])
		}
	}
}
