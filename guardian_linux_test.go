//go:build linux

package childproc_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/childproc/childproc"
	"github.com/childproc/childproc/ipc"
)

// The guardian: what dies with a SIGKILLed parent, and what does not.

// The helper parents of these tests, registered entries forked with
// forkHelperParent; args[0] is their mark.
var (
	treeMixedEntry    = registerHelper("test-parent-tree-mixed", helperTreeMixed)
	guardianKillEntry = registerHelper("test-parent-guardian-kill", helperGuardianKill)
	emfileEntry       = registerHelper("test-parent-emfile", helperEMFILE)
	credentialsEntry  = registerHelper("test-parent-credentials", helperCredentials)
	reapedTreesEntry  = registerHelper("test-parent-reaped-trees", helperReapedTrees)
	execingTreeEntry  = registerHelper("test-parent-execing-tree", helperExecingTree)
)

// registerHelper registers run as the helper parent called name; an
// error it returns is printed to stdout, where the test reads it.
func registerHelper(name string, run func(mark string) error) string {
	return childproc.RegisterEntry(name, func(ctx context.Context, ch *ipc.Channel, args []string) error {
		if err := run(args[0]); err != nil {
			fmt.Println("error:", err)
			return err
		}
		return nil
	})
}

// spawnMarked starts script under sh with CHILDPROC_TEST_MARK=mark in its
// environment.
func spawnMarked(mark, script string, opts childproc.Options) (*childproc.Child, error) {
	opts.Env = append(os.Environ(), "CHILDPROC_TEST_MARK="+mark)
	if opts.Stdio == nil {
		opts.Stdio = []any{childproc.Ignore, childproc.Ignore, childproc.Inherit}
	}
	return childproc.Spawn(context.Background(), "sh", []string{"-c", script}, &opts)
}

// treeScript starts grandchildren: one ignores SIGTERM, one leaves the
// process group, one just sleeps.
const treeScript = "(trap '' TERM; exec sleep 1000) & setsid sleep 1000 & sleep 1000 & wait"

// helperTreeMixed starts a guarded KillTree child and KillTree children
// with SurviveParent and Detached, each with grandchildren.
func helperTreeMixed(mark string) error {
	for _, o := range []struct {
		suffix string
		opts   childproc.Options
	}{
		{"-guarded", childproc.Options{KillTree: true, ForceKillAfter: 300 * time.Millisecond}},
		{"-survive", childproc.Options{KillTree: true, SurviveParent: true}},
		{"-detached", childproc.Options{KillTree: true, Detached: true}},
	} {
		if _, err := spawnMarked(mark+o.suffix, "sleep 1000 & sleep 1000 & wait", o.opts); err != nil {
			return err
		}
	}
	fmt.Println("ready")
	select {}
}

// KillTree children with SurviveParent or Detached outlive their parent,
// grandchildren included, even while a guarded KillTree child dies with
// it.
func TestKillTreeSurviveParentOutlivesParent(t *testing.T) {
	mark := uniqueMark(t)
	parent := forkHelperParent(t, treeMixedEntry, mark)
	for _, s := range []string{"-guarded", "-survive", "-detached"} {
		waitMarked(t, mark+s, 3)
	}
	parent.Kill(syscall.SIGKILL)
	parent.Wait()
	if left := waitGone(mark+"-guarded", 3*time.Second); len(left) > 0 {
		killAll(left)
		t.Errorf("%d processes of the guarded tree outlived their parent", len(left))
	}
	time.Sleep(500 * time.Millisecond) // past the guarded tree's ForceKillAfter
	for _, s := range []string{"-survive", "-detached"} {
		left := markedProcesses(mark + s)
		killAll(left)
		if len(left) != 3 {
			t.Errorf("KillTree with %s: %d of 3 processes outlived the parent", s[1:], len(left))
		}
	}
}

// killParent SIGKILLs parent and fails the test unless every process
// with mark dies within 3 s; what names them in the error.
func killParent(t *testing.T, parent *childproc.Child, mark, what string) {
	t.Helper()
	parent.Kill(syscall.SIGKILL)
	parent.Wait()
	if left := waitGone(mark, 3*time.Second); len(left) > 0 {
		killAll(left)
		t.Fatalf("%d %s: %v", len(left), what, left)
	}
}

// waitMarked waits until n processes carry mark.
func waitMarked(t *testing.T, mark string, n int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); len(markedProcesses(mark)) < n; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			killAll(markedProcesses(mark))
			t.Fatalf("%d processes with mark %s, want %d", len(markedProcesses(mark)), mark, n)
		}
	}
}

// helperGuardianKill starts three children and a tree, then, at each
// line on stdin, SIGKILLs its guardian and starts as many again.
func helperGuardianKill(mark string) error {
	spawn := func() error {
		for range 3 {
			if _, err := spawnMarked(mark, "exec sleep 1000", childproc.Options{}); err != nil {
				return err
			}
		}
		_, err := spawnMarked(mark, treeScript, childproc.Options{KillTree: true, ForceKillAfter: 300 * time.Millisecond})
		return err
	}
	in := bufio.NewScanner(os.Stdin)
	for {
		if err := spawn(); err != nil {
			return err
		}
		fmt.Println("ready")
		if !in.Scan() {
			return nil
		}
		g := guardianOf(os.Getpid())
		if g == 0 {
			return errors.New("no guardian")
		}
		syscall.Kill(g, syscall.SIGKILL)
		// Until it is reaped the guardian may still hold its socket: its
		// leader is a zombie while its other threads exit, and a spawn
		// meanwhile would register with it.
		for pidExists(g) {
			time.Sleep(10 * time.Millisecond)
		}
		if in.Text() == "wait" {
			// Let the new guardian take over before the next children.
			for guardianOf(os.Getpid()) == 0 {
				time.Sleep(10 * time.Millisecond)
			}
		}
	}
}

// guardianOf returns the pid of parent's guardian, or 0.
func guardianOf(parent int) int {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		stat, _ := os.ReadFile("/proc/" + e.Name() + "/stat")
		i := strings.LastIndexByte(string(stat), ')')
		if string(cmdline) != "childproc-guardian\x00" || i < 0 {
			continue
		}
		if f := strings.Fields(string(stat[i+1:])); len(f) > 1 && f[0] != "Z" && f[1] == strconv.Itoa(parent) {
			return pid
		}
	}
	return 0
}

// pidExists reports whether pid is a process, a zombie included.
func pidExists(pid int) bool {
	_, err := os.Stat("/proc/" + strconv.Itoa(pid))
	return err == nil
}

// startHelperDialog forks the helper parent entry with mark and returns
// it with its stdin and its stdout, after its first "ready".
func startHelperDialog(t *testing.T, entry, mark string) (*childproc.Child, io.WriteCloser, *bufio.Reader) {
	t.Helper()
	c, err := childproc.ForkEntry(context.Background(), entry, []string{mark}, &childproc.Options{
		Stdio: []any{childproc.Pipe, childproc.Pipe, childproc.Inherit, childproc.IPC},
	})
	if err != nil {
		t.Fatal(err)
	}
	out := bufio.NewReader(c.Stdout)
	expectLine(t, out, "ready", func() { c.Kill(syscall.SIGKILL); c.Wait() })
	return c, c.Stdin, out
}

// startDialog starts cmd and returns its stdin and its stdout, after its
// first "ready".
func startDialog(t *testing.T, cmd *exec.Cmd) (io.WriteCloser, *bufio.Reader) {
	t.Helper()
	cmd.Stderr = os.Stderr
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(out)
	expectLine(t, r, "ready", func() { cmd.Process.Kill(); cmd.Wait() })
	return in, r
}

// expectLine reads the helper's next line, which must be want; else it
// stops the helper and fails the test.
func expectLine(t *testing.T, r *bufio.Reader, want string, stop func()) {
	t.Helper()
	line, err := r.ReadString('\n')
	if err != nil || strings.TrimSpace(line) != want {
		stop()
		t.Fatalf("helper parent: %q %v, want %q", line, err, want)
	}
}

// A SIGKILLed guardian is replaced: the children started before and after
// its death (with the new guardian started by a spawn, or on its own),
// and their trees, still die with the SIGKILLed parent.
func TestGuardianRestartsAfterSIGKILL(t *testing.T) {
	mark := uniqueMark(t)
	parent, in, out := startHelperDialog(t, guardianKillEntry, mark)
	defer in.Close()
	for _, step := range []string{"now", "wait"} {
		io.WriteString(in, step+"\n")
		expectLine(t, out, "ready", func() { parent.Kill(syscall.SIGKILL); parent.Wait() })
	}
	const want = 3 * (3 + 4) // per round: three children, and a tree of four
	for deadline := time.Now().Add(5 * time.Second); len(markedProcesses(mark)) < want && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if n := len(markedProcesses(mark)); n != want {
		parent.Kill(syscall.SIGKILL)
		parent.Wait()
		killAll(markedProcesses(mark))
		t.Fatalf("%d processes before the kill, want %d", n, want)
	}
	killParent(t, parent, mark, "processes outlived their SIGKILLed parent after its guardian was killed")
}

// helperEMFILE tries KillTree spawns with its descriptor table full but
// for 0, 1, 2, ... free slots, so that each step of a spawn (the
// guardian's start, the fork, the registration) runs out in turn. Each
// attempt must either fail with EMFILE and leave nothing running, or
// succeed; and once the table has room again, spawns must work. It
// prints how many processes of the mark must be running.
func helperEMFILE(mark string) error {
	running, failed := 0, 0
	for free := 0; free < 16; free++ {
		m := mark + "-" + strconv.Itoa(free)
		filler := fillFdTable(free)
		_, err := spawnMarked(m, "sleep 300 & wait", childproc.Options{KillTree: true, Stdio: []any{childproc.Inherit, childproc.Inherit, childproc.Inherit}})
		for _, f := range filler {
			f.Close()
		}
		if err == nil {
			running += 2
			continue
		}
		failed++
		var e *childproc.Error
		if !errors.As(err, &e) || e.Code != "EMFILE" {
			return fmt.Errorf("spawn with %d free descriptors: %v, want an *Error with code EMFILE", free, err)
		}
		time.Sleep(100 * time.Millisecond)
		if n := len(markedProcesses(m)); n > 0 {
			return fmt.Errorf("%d processes left by the spawn that failed (%v)", n, err)
		}
	}
	if failed == 0 {
		return errors.New("no spawn ran out of descriptors")
	}
	if _, err := spawnMarked(mark+"-after", "exec sleep 1000", childproc.Options{}); err != nil {
		return err
	}
	if _, err := spawnMarked(mark+"-after", treeScript, childproc.Options{KillTree: true, ForceKillAfter: 300 * time.Millisecond}); err != nil {
		return err
	}
	fmt.Println("ready", running)
	select {}
}

// fillFdTable opens /dev/null until only free descriptors are left.
func fillFdTable(free int) []*os.File {
	var filler []*os.File
	for {
		f, err := os.Open(os.DevNull)
		if err != nil {
			break
		}
		filler = append(filler, f)
	}
	for range min(free, len(filler)) {
		filler[len(filler)-1].Close()
		filler = filler[:len(filler)-1]
	}
	return filler
}

// A guardian that cannot start, or a child that cannot be registered, for
// want of a descriptor fails that spawn with EMFILE and leaves nothing
// running; once descriptors are free again, spawns work, and what they
// started dies with the SIGKILLed parent.
func TestGuardianStartEMFILE(t *testing.T) {
	mark := uniqueMark(t)
	parent, err := childproc.ForkEntry(context.Background(), emfileEntry, []string{mark}, &childproc.Options{
		Stdio: []any{childproc.Ignore, childproc.Pipe, childproc.Inherit, childproc.IPC},
	})
	if err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(parent.Stdout).ReadString('\n')
	running, convErr := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "ready ")))
	if err != nil || convErr != nil {
		parent.Kill(syscall.SIGKILL)
		parent.Wait()
		t.Fatalf("helper parent: %q %v", line, err)
	}
	waitMarked(t, mark+"-after", 1+4)
	all := func() (n int) {
		for free := 0; free < 16; free++ {
			n += len(markedProcesses(mark + "-" + strconv.Itoa(free)))
		}
		return n + len(markedProcesses(mark+"-after"))
	}
	if n := all(); n != running+5 {
		t.Errorf("%d processes running, want %d", n, running+5)
	}
	parent.Kill(syscall.SIGKILL)
	parent.Wait()
	for deadline := time.Now().Add(3 * time.Second); all() > 0 && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	if n := all(); n > 0 {
		for free := 0; free < 16; free++ {
			if left := markedProcesses(mark + "-" + strconv.Itoa(free)); len(left) > 0 {
				t.Logf("with %d free descriptors: %v", free, left)
				killAll(left)
			}
		}
		for _, p := range markedProcesses(mark + "-after") {
			cl, _ := os.ReadFile("/proc/" + strconv.Itoa(p) + "/cmdline")
			st, _ := os.ReadFile("/proc/" + strconv.Itoa(p) + "/stat")
			t.Logf("after: %d %q %s", p, cl, st)
		}
		killAll(markedProcesses(mark + "-after"))
		t.Fatalf("%d processes outlived their SIGKILLed parent", n)
	}
}

// suidSleep is a setuid-root copy of sleep, in a directory everyone may
// enter, made by TestCredentialChangingChildrenDie.
const suidSleepEnv = "CHILDPROC_TEST_SUID_SLEEP"

// helperCredentials starts two children that change credentials, which
// clears a parent-death signal: one through setpriv, one started with
// UID that executes a setuid binary.
func helperCredentials(mark string) error {
	if _, err := spawnMarked(mark, "exec setpriv --reuid=65534 --regid=65534 --clear-groups sleep 100", childproc.Options{}); err != nil {
		return err
	}
	nobody := 65534
	c, err := spawnMarked(mark, "exec "+os.Getenv(suidSleepEnv)+" 100", childproc.Options{UID: &nobody, GID: &nobody, Cwd: "/"})
	if err != nil {
		return err
	}
	// The setuid binary runs: real uid nobody, effective uid root.
	status := "/proc/" + strconv.Itoa(c.Pid()) + "/status"
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		data, _ := os.ReadFile(status)
		if strings.Contains(string(data), "\nUid:\t65534\t0\t0\t0\n") {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the setuid child never ran as root: %q", data)
		}
	}
	fmt.Println("ready")
	select {}
}

// Children that change credentials (the kernel then clears a parent-death
// signal) die with their SIGKILLed parent: one that setpriv makes another
// user, and one started with UID that executes a setuid-root binary.
func TestCredentialChangingChildrenDie(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to change users")
	}
	dir := t.TempDir()
	suid := filepath.Join(dir, "suid-sleep")
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(sleep)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(suid, data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(suid, os.ModeSetuid|0o755); err != nil {
		t.Fatal(err)
	}
	for d := dir; d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
		os.Chmod(d, 0o755)
	}
	mark := uniqueMark(t)
	t.Setenv(suidSleepEnv, suid)
	parent := forkHelperParent(t, credentialsEntry, mark)
	waitMarked(t, mark, 2)
	killParent(t, parent, mark, "children that changed credentials outlived their SIGKILLed parent")
}

// The guardian does not signal a process group that a stranger took over
// after the tree registered under that pgid had ended (pid reuse forced
// in a pid namespace of its own).
func TestGuardianSparesReusedPgid(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root for a pid namespace")
	}
	mark := uniqueMark(t)
	// The helper, testdata/reusedpgid, is the namespace's second process:
	// its init is a shell that outlives it until its stdin closes.
	helper := buildProgram(t, t.TempDir(), "reusedpgid")
	cmd := exec.Command("unshare", "-p", "-f", "--mount-proc", "sh", "-c", `"$0" "$@"; read x`, helper, mark)
	in, _ := startDialog(t, cmd)
	defer func() { in.Close(); cmd.Wait() }()
	time.Sleep(time.Second) // the guardian has read EOF and acted by now
	if left := markedProcesses(mark + "-stranger"); len(left) != 1 {
		t.Fatalf("the stranger that took the tree's pgid: %d processes left, want 1", len(left))
	}
}

// The guardian acts only on childproc's handoff: with the variable alone
// the binary refuses to run as one, and never runs main either (which
// here would run no test and exit 0). The variable of an earlier
// protocol, CHILDPROC_GUARDIAN, is an ordinary variable: main runs.
func TestGuardianNeedsHandoff(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "CHILDPROC_REEXEC=guardian:3:"+strings.Repeat("0", 32))
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 || !strings.Contains(string(out), "not started as a guardian") {
		t.Fatalf("%v: %s", err, out)
	}
	cmd = exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "CHILDPROC_GUARDIAN=3:"+strings.Repeat("0", 32))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("with CHILDPROC_GUARDIAN: %v: %s", err, out)
	}
}

// reapedTrees is how many KillTree children helperReapedTrees starts.
const reapedTrees = 16

// helperReapedTrees starts reapedTrees KillTree children at once, each of
// which leaves a sleeper behind and exits (half of the sleepers hold the
// child's stdout, which WaitDelay then cuts), reaps them all, and waits
// to be killed.
func helperReapedTrees(mark string) error {
	errs := make(chan error, reapedTrees)
	for i := range reapedTrees {
		go func() {
			opts := childproc.Options{KillTree: true, ForceKillAfter: 200 * time.Millisecond}
			script := "sleep 300 >/dev/null 2>&1 & exit 0"
			if i%2 == 0 {
				opts.Stdio = []any{childproc.Ignore, childproc.Pipe, childproc.Ignore}
				opts.WaitDelay = 200 * time.Millisecond
				script = "sleep 300 & exit 0"
			}
			c, err := spawnMarked(mark, script, opts)
			if err != nil {
				errs <- err
				return
			}
			if c.Stdout != nil {
				go io.Copy(io.Discard, c.Stdout)
			}
			c.Wait() // a WaitDelay error is expected for the sleepers holding stdout
			errs <- nil
		}()
	}
	for range reapedTrees {
		if err := <-errs; err != nil {
			return err
		}
	}
	fmt.Println("ready")
	select {}
}

// The trees of KillTree children that the parent has already reaped die
// with the parent too: their sleepers, orphaned and found by the tree
// marker alone, are stopped by the guardian.
func TestGuardianStopsReapedTrees(t *testing.T) {
	mark := uniqueMark(t)
	parent := forkHelperParent(t, reapedTreesEntry, mark)
	waitMarked(t, mark, reapedTrees)
	parent.Kill(syscall.SIGKILL)
	parent.Wait()
	if left := waitGone(mark, 5*time.Second); len(left) > 0 {
		killAll(left)
		t.Fatalf("%d of %d sleepers of reaped KillTree children outlived their SIGKILLed parent: %v", len(left), reapedTrees, left)
	}
}

// execChain is a script whose background process executes programs one
// after another, each given hundreds of arguments (which widens the
// moment an exec leaves its environment unreadable), then sleeps; the
// shell exits at once.
const execChain = `S='n=$((n+1)); export n; [ "$n" -lt 300 ] && exec sh -c "$S" "$@"; exec sleep 300'; export S; set -- $(seq 2000); sh -c "$S" sh "$@" & exit 0`

// helperExecingTree starts a KillTree child whose sleeper is still
// executing programs as the child is reaped, reaps it, and waits to be
// killed. It is the first reaped KillTree child of its process.
func helperExecingTree(mark string) error {
	c, err := spawnMarked(mark, execChain, childproc.Options{KillTree: true, ForceKillAfter: 200 * time.Millisecond})
	if err != nil {
		return err
	}
	c.Wait()
	fmt.Println("ready")
	select {}
}

// The tree of a reaped KillTree child dies with the parent even when the
// tree's only process was executing a program as the child was reaped
// (its environment, and so its marker, then reads empty). Several
// parents run at once, each with such a tree.
func TestGuardianStopsTreeExecutingAtReap(t *testing.T) {
	const parents = 10
	mark := uniqueMark(t)
	var helpers []*childproc.Child
	for range parents {
		helpers = append(helpers, forkHelperParent(t, execingTreeEntry, mark))
	}
	waitMarked(t, mark, parents)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		sleeping := 0
		for _, p := range markedProcesses(mark) {
			if comm, _ := os.ReadFile("/proc/" + strconv.Itoa(p) + "/comm"); string(comm) == "sleep\n" {
				sleeping++
			}
		}
		if sleeping == parents {
			break
		}
		if time.Now().After(deadline) {
			killAll(markedProcesses(mark))
			t.Fatalf("%d of %d trees reached their sleep", sleeping, parents)
		}
	}
	for _, h := range helpers {
		h.Kill(syscall.SIGKILL)
		h.Wait()
	}
	if left := waitGone(mark, 5*time.Second); len(left) > 0 {
		killAll(left)
		t.Fatalf("%d of %d sleepers outlived their SIGKILLed parent: %v", len(left), parents, left)
	}
}
