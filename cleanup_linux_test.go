package childproc_test

import (
	"context"
	"errors"
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

func uniqueMark(t *testing.T) string {
	return t.Name() + "-" + strconv.Itoa(os.Getpid()) + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
}

// A parent that is SIGKILLed leaves none of its 20 children behind.
func TestChildrenDieWithSIGKILLedParent(t *testing.T) {
	mark := uniqueMark(t)
	parent := forkHelperParent(t, parentEntry, mark)
	// A child may still be between sh and its exec of sleep.
	for deadline := time.Now().Add(5 * time.Second); len(markedProcesses(mark)) < 20 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if n := len(markedProcesses(mark)); n != 20 {
		parent.Kill(syscall.SIGKILL)
		parent.Wait()
		t.Fatalf("want 20 live children before the kill, found %d", n)
	}
	parent.Kill(syscall.SIGKILL)
	parent.Wait()
	if left := waitGone(mark, 2*time.Second); len(left) > 0 {
		killAll(left)
		t.Fatalf("%d children outlived their SIGKILLed parent: %v", len(left), left)
	}
}

// SurviveParent children outlive their SIGKILLed parent, as Node's do.
func TestSurviveParent(t *testing.T) {
	for _, h := range []struct{ mode, entry string }{{"SurviveParent", parentSurviveEntry}, {"Detached", parentDetachedEntry}} {
		mode, mark := h.mode, uniqueMark(t)
		parent := forkHelperParent(t, h.entry, mark)
		for deadline := time.Now().Add(5 * time.Second); len(markedProcesses(mark)) < 20 && time.Now().Before(deadline); {
			time.Sleep(20 * time.Millisecond)
		}
		parent.Kill(syscall.SIGKILL)
		parent.Wait()
		time.Sleep(500 * time.Millisecond)
		left := markedProcesses(mark)
		killAll(left)
		if len(left) != 20 {
			t.Fatalf("%s: %d of 20 children outlived their SIGKILLed parent", mode, len(left))
		}
	}
}

// With KillTree, the grandchildren go too: those that ignore SIGTERM and
// those that left the process group.
func TestTreeDiesWithSIGKILLedParent(t *testing.T) {
	mark := uniqueMark(t)
	// A bystander that is no part of the tree must survive the guardian.
	bystander := exec.Command("sleep", "30")
	if err := bystander.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { bystander.Process.Kill(); bystander.Wait() }()
	parent := forkHelperParent(t, parentTreeEntry, mark)
	for deadline := time.Now().Add(5 * time.Second); len(markedProcesses(mark)) < 80 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if n := len(markedProcesses(mark)); n < 80 {
		parent.Kill(syscall.SIGKILL)
		parent.Wait()
		killAll(markedProcesses(mark))
		t.Fatalf("want 20 children and 60 grandchildren before the kill, found %d", n)
	}
	parent.Kill(syscall.SIGKILL)
	parent.Wait()
	if left := waitGone(mark, 2*time.Second); len(left) > 0 {
		killAll(left)
		t.Fatalf("%d processes of the tree outlived their SIGKILLed parent: %v", len(left), left)
	}
	time.Sleep(500 * time.Millisecond) // past the guardian's ForceKillAfter
	if err := bystander.Process.Signal(syscall.Signal(0)); err != nil {
		t.Fatalf("the guardian killed an unrelated process: %v", err)
	}
}

// KillTree(nil) stops grandchildren that ignore SIGTERM, after the delay,
// including one that left the process group.
func TestKillTreeGraceful(t *testing.T) {
	mark := uniqueMark(t)
	c, err := childproc.Spawn(context.Background(), "sh", []string{"-c",
		"trap '' TERM; (trap '' TERM; exec sleep 1000) & setsid sleep 1000 & sleep 1000 & wait"}, &childproc.Options{
		Env:            append(os.Environ(), "CHILDPROC_TEST_MARK="+mark),
		Stdio:          []any{childproc.Ignore, childproc.Ignore, childproc.Ignore},
		KillTree:       true,
		ForceKillAfter: 400 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(markedProcesses(mark)) < 4 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	start := time.Now()
	if err := c.KillTree(nil); err != nil {
		t.Fatal(err)
	}
	time.Sleep(150 * time.Millisecond)
	if n := len(markedProcesses(mark)); n < 2 {
		t.Errorf("SIGTERM-ignoring processes gone before the force delay: %d left", n)
	}
	err = c.Wait()
	var e *childproc.Error
	if !errors.As(err, &e) || e.Signal != "SIGKILL" || !e.ForceKilled {
		t.Errorf("Wait: %#v, want a SIGKILL that ForceKilled", err)
	}
	if left := waitGone(mark, 3*time.Second); len(left) > 0 {
		killAll(left)
		t.Fatalf("%d processes of the tree left after KillTree(nil): %v", len(left), left)
	}
	if since := time.Since(start); since < 400*time.Millisecond {
		t.Errorf("tree gone after %v, before ForceKillAfter", since)
	}
}

// Timeout stops the tree gracefully too, and Exec's error says so.
func TestTimeoutTreeForceKilled(t *testing.T) {
	mark := uniqueMark(t)
	c, err := childproc.Exec(context.Background(), "trap '' TERM; sleep 1000 & echo started; wait", &childproc.Options{
		Env:            append(os.Environ(), "CHILDPROC_TEST_MARK="+mark),
		Timeout:        300 * time.Millisecond,
		KillTree:       true,
		ForceKillAfter: 300 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	out, _, err := c.Output()
	var e *childproc.Error
	if !errors.As(err, &e) || !e.TimedOut || !e.Killed || !e.ForceKilled || e.Signal != "SIGKILL" {
		t.Fatalf("Output: %v %#v", err, err)
	}
	if string(out) != "started\n" {
		t.Errorf("stdout %q", out)
	}
	if left := waitGone(mark, 2*time.Second); len(left) > 0 {
		killAll(left)
		t.Fatalf("%d processes left", len(left))
	}
}

// A child that allocates 1 GiB under a 100 MiB cap fails; the parent is
// fine, and the same child allocating 10 MiB under the cap succeeds.
func TestMemoryLimit(t *testing.T) {
	alloc := allocatorPath(t)
	capped := &childproc.Options{Limits: &childproc.Limits{Memory: 100 << 20}}
	c, err := childproc.ExecFile(context.Background(), alloc, []string{"1024"}, capped)
	if err != nil {
		t.Fatal(err)
	}
	out, stderr, err := c.Output()
	var e *childproc.Error
	if !errors.As(err, &e) || e.Limit != "memory" || e.ExitCode == 0 {
		t.Fatalf("want a memory failure, got %v (stdout %q)", err, out)
	}
	// The Go runtime usually says "out of memory"; when the failed
	// allocation is one of its own it may crash otherwise.
	line, _, _ := strings.Cut(string(stderr), "\n")
	t.Logf("capped child: exit %d, %q", e.ExitCode, line)
	c, err = childproc.ExecFile(context.Background(), alloc, []string{"10"}, capped)
	if err != nil {
		t.Fatal(err)
	}
	if out, _, err := c.Output(); err != nil || string(out) != "allocated 10\n" {
		t.Fatalf("10 MiB under the cap: %q %v", out, err)
	}
}

// A busy loop under a 1 s CPU cap is stopped by SIGXCPU.
func TestCPULimit(t *testing.T) {
	start := time.Now()
	c, err := childproc.Spawn(context.Background(), "sh", []string{"-c", "while :; do :; done"}, &childproc.Options{
		Stdio:   []any{childproc.Ignore, childproc.Ignore, childproc.Ignore},
		Limits:  &childproc.Limits{CPUTime: time.Second},
		Timeout: 30 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	err = c.Wait()
	var e *childproc.Error
	if !errors.As(err, &e) || e.Signal != "SIGXCPU" || e.Limit != "cpu" || e.Killed {
		t.Fatalf("Wait: %v %#v", err, err)
	}
	ru := c.Rusage()
	if cpu := ru.UserTime + ru.SystemTime; cpu < 500*time.Millisecond || cpu > 3*time.Second {
		t.Errorf("child used %v of CPU under a 1 s cap", cpu)
	}
	t.Logf("stopped after %v wall, %v CPU", time.Since(start), ru.UserTime+ru.SystemTime)
}

// Limits reach the child before it runs: the shell sees them.
func TestLimitsSeenByChild(t *testing.T) {
	out, err := childproc.ExecFileSync("sh", []string{"-c", "ulimit -v; ulimit -t; ulimit -n; ulimit -c; echo ${CHILDPROC_REEXEC-unset}"}, &childproc.Options{
		Limits: &childproc.Limits{AddressSpace: 200 << 20, CPUTime: 1500 * time.Millisecond, OpenFiles: 64, DisableCoreDumps: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(out), "204800\n2\n64\n0\nunset\n"; got != want {
		t.Fatalf("limits seen by the child: %q, want %q", got, want)
	}
}

// A process cap contains a fork bomb (as a user the cap binds: root ignores
// RLIMIT_NPROC).
func TestProcessLimitContainsForkBomb(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to run the bomb as an otherwise idle user")
	}
	// A uid of its own: RLIMIT_NPROC counts the user's processes
	// machine-wide, so another test run must not share it.
	nobody := 30000 + os.Getpid()%20000
	mark := uniqueMark(t)
	c, err := childproc.Spawn(context.Background(), "sh", []string{"-c",
		"i=0; while [ $i -lt 300 ]; do sleep 5 2>/dev/null & i=$((i+1)); done; wait"}, &childproc.Options{
		Env:      append(os.Environ(), "CHILDPROC_TEST_MARK="+mark),
		Stdio:    []any{childproc.Ignore, childproc.Ignore, childproc.Ignore},
		UID:      &nobody,
		GID:      &nobody,
		Limits:   &childproc.Limits{Processes: 20},
		KillTree: true,
		Timeout:  3 * time.Second,
		Cwd:      "/",
	})
	if err != nil {
		t.Fatal(err)
	}
	peak := 0
	for end := time.Now().Add(time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		peak = max(peak, len(markedProcesses(mark)))
	}
	c.KillTree(syscall.SIGKILL)
	c.Wait()
	if peak > 20 {
		t.Errorf("%d processes under a cap of 20", peak)
	}
	if peak < 5 {
		t.Errorf("the bomb never got going (%d processes)", peak)
	}
	if left := waitGone(mark, 3*time.Second); len(left) > 0 {
		killAll(left)
		t.Errorf("%d processes left", len(left))
	}
}

// Killing a child and dropping it leaves no zombie: it is reaped anyway.
func TestNoZombieWithoutWait(t *testing.T) {
	var pids []int
	for i := 0; i < 10; i++ {
		c, err := childproc.Spawn(context.Background(), "sleep", []string{"10"}, &childproc.Options{Stdio: []any{childproc.Ignore, childproc.Ignore, childproc.Ignore}})
		if err != nil {
			t.Fatal(err)
		}
		pids = append(pids, c.Pid())
		c.Kill(syscall.SIGKILL)
	}
	deadline := time.Now().Add(5 * time.Second)
	for _, pid := range pids {
		for {
			_, err := os.Stat("/proc/" + strconv.Itoa(pid))
			if os.IsNotExist(err) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("pid %d still in /proc (a zombie?)", pid)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// The shim allocates nothing once the limits are in force: a memory cap
// far below what the Go runtime of the shim already holds, with an
// environment that takes a megabyte to copy, still runs the target.
func TestMemoryLimitBelowShimsOwn(t *testing.T) {
	env := os.Environ()
	for i := 0; i < 10; i++ {
		env = append(env, "CHILDPROC_TEST_BIG"+strconv.Itoa(i)+"="+strings.Repeat("x", 100<<10))
	}
	r := childproc.SpawnSync("/bin/true", nil, &childproc.Options{
		Env:    env,
		Limits: &childproc.Limits{Memory: 4 << 20},
	})
	if r.Err != nil || r.Status != 0 {
		t.Fatalf("status %d, err %v, stderr %.300s", r.Status, r.Err, r.Stderr)
	}
}

// A child that survives its parent (SurviveParent) sees the channel end
// when the parent dies, even by SIGKILL: a Go entry reads EOF, a Node
// child gets 'disconnect'.
func TestChildSeesParentDeathAsEOF(t *testing.T) {
	dir := t.TempDir()
	parent := forkHelperParent(t, parentIPCSurviveEntry, dir)
	parent.Kill(syscall.SIGKILL)
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
