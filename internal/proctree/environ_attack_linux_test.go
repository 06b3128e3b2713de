//go:build linux

package proctree

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// helperEnv makes the test binary act as a helper process (see
// TestHelperHideEnviron).
const helperEnv = "PROCTREE_ATTACK_HELPER"

// TestHelperHideEnviron is no test: run by startHelper, it makes the
// page where its environment starts unreadable (PROT_NONE), says so on
// stdout and sleeps. /proc/<pid>/environ then opens but reads empty,
// while /proc/<pid>/stat shows the environment in place.
//
// The argument strings lie just below the environment, and below them
// the stack of the main thread, which the Go scheduler runs on: the last
// argument is a padding longer than a page, so that the page made
// unreadable holds none of that stack.
func TestHelperHideEnviron(t *testing.T) {
	switch mode := os.Getenv(helperEnv); mode {
	case "clear", "nodump":
		if mode == "nodump" {
			unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
		} else {
			// Overwrite the environment strings with zeros.
			f := statFields("/proc/self")
			start, _ := strconv.ParseInt(f[47], 10, 64)
			end, _ := strconv.ParseInt(f[48], 10, 64)
			mem, err := os.OpenFile("/proc/self/mem", os.O_WRONLY, 0)
			if err == nil {
				_, err = mem.WriteAt(make([]byte, end-start), start)
				mem.Close()
			}
			if err != nil {
				os.Stdout.WriteString("error " + err.Error() + "\n")
				os.Exit(1)
			}
		}
		os.Stdout.WriteString("ready\n")
		time.Sleep(30 * time.Second)
		os.Exit(0)
	case "hide":
	case "scan":
		// Unprivileged: environ of pid 1 cannot be opened.
		start := time.Now()
		env := environ(1)
		os.Stdout.WriteString("ready " + strconv.Itoa(len(env)) + " " + strconv.FormatInt(int64(time.Since(start)), 10) + "\n")
		os.Exit(0)
	default:
		t.Skip("helper only")
	}
	f := statFields("/proc/self")
	envStart, _ := strconv.ParseUint(f[47], 10, 64)
	page := uint64(os.Getpagesize())
	addr := envStart &^ (page - 1)
	_, _, errno := unix.Syscall(unix.SYS_MPROTECT, uintptr(addr), uintptr(page), unix.PROT_NONE)
	if errno != 0 {
		os.Stdout.WriteString("error " + errno.Error() + "\n")
		os.Exit(1)
	}
	os.Stdout.WriteString("ready\n")
	time.Sleep(30 * time.Second)
	os.Exit(0)
}

// startHelper starts the test binary as a helper of the given mode with
// the extra environment and waits for its "ready" line.
func startHelper(t *testing.T, mode string, env ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperHideEnviron$", strings.Repeat("p", 2*os.Getpagesize()))
	cmd.Env = append(append(os.Environ(), helperEnv+"="+mode), env...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, _ := bufio.NewReader(out).ReadString('\n')
	if line != "ready\n" {
		t.Fatalf("helper: %q", line)
	}
	return cmd
}

// timeEnviron returns how long environ(pid) takes and what it read.
func timeEnviron(pid int) (time.Duration, []byte) {
	start := time.Now()
	env := environ(pid)
	return time.Since(start), env
}

// A process whose environment memory cannot be read (its environ opens
// and reads empty, while its stat shows an environment in place and no
// exec under way) is not in the middle of an exec: environ must not
// read it again for its whole second, on every scan.
func TestEnvironUnreadableMemoryNoSpin(t *testing.T) {
	cmd := startHelper(t, "hide", EnvKey+"=hidden.1")
	pid := cmd.Process.Pid
	if env, err := readEnviron("/proc/" + strconv.Itoa(pid)); err != nil || len(env) != 0 {
		t.Skipf("environ of the helper reads %d bytes (%v): this kernel reads it", len(env), err)
	}
	d, _ := timeEnviron(pid)
	if d > 300*time.Millisecond {
		t.Errorf("environ of a process with an unreadable environment took %v", d)
	}
}

// A process with a legitimately empty environment (env -i) is read once.
func TestEnvironEmptyNoSpin(t *testing.T) {
	cmd := exec.Command("env", "-i", "sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	pid := cmd.Process.Pid
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		if data, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm"); string(data) == "sleep\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("env -i sleep did not start")
		}
	}
	time.Sleep(20 * time.Millisecond)
	d, env := timeEnviron(pid)
	if len(env) != 0 || d > 300*time.Millisecond {
		t.Errorf("environ of env -i: %d bytes in %v", len(env), d)
	}
}

// A zombie, pid 2 (a kernel thread) and a pid that does not exist are
// read once, as nothing.
func TestEnvironZombieKthreadNoSpin(t *testing.T) {
	cmd := exec.Command("true")
	cmd.Env = []string{EnvKey + "=zombie.1"}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	pid := cmd.Process.Pid
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		if f := statFields("/proc/" + strconv.Itoa(pid)); len(f) > 0 && f[0] == "Z" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no zombie")
		}
	}
	for _, p := range []int{pid, 2, 1 << 30} {
		d, env := timeEnviron(p)
		if len(env) != 0 || d > 300*time.Millisecond {
			t.Errorf("environ(%d): %d bytes in %v", p, len(env), d)
		}
		if m := MarkerOf(p); m != "" {
			t.Errorf("MarkerOf(%d) = %q", p, m)
		}
	}
}

// Environments over 8 KiB and over 64 KiB are read whole: a marker at
// their end is found.
func TestEnvironHuge(t *testing.T) {
	for _, size := range []int{8<<10 - 30, 8 << 10, 9 << 10, 70 << 10, 200 << 10} {
		marker := "huge." + strconv.Itoa(size)
		cmd := exec.Command("sleep", "30")
		// One string may hold at most 128 KiB: the padding is in parts.
		var env []string
		for n := 0; n < size; n += 4096 {
			env = append(env, "PAD"+strconv.Itoa(n)+"="+strings.Repeat("y", min(4096, size-n)))
		}
		cmd.Env = append(env, EnvKey+"="+marker)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		pid := cmd.Process.Pid
		got := ""
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			if data, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm"); string(data) == "sleep\n" {
				got = MarkerOf(pid)
				break
			}
		}
		cmd.Process.Kill()
		cmd.Wait()
		if got != marker {
			t.Errorf("environment of %d bytes: MarkerOf = %q, want %q", size, got, marker)
		}
	}
}

// A process that executes programs in a tight loop forever is read in
// at most execWait (and a little) per look, and its marker is found.
func TestEnvironExecLoopBounded(t *testing.T) {
	marker := "execloop." + strconv.Itoa(os.Getpid())
	script := `exec sh -c "$S" "$@"`
	args := []string{"-c", script, "sh"}
	for i := range 2000 {
		args = append(args, strconv.Itoa(i))
	}
	cmd := exec.Command("sh", args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "S=" + script, "PAD=" + strings.Repeat("z", 4096), EnvKey + "=" + marker}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	pid := cmd.Process.Pid
	time.Sleep(50 * time.Millisecond)
	var worst time.Duration
	missed := 0
	const looks = 100
	for range looks {
		start := time.Now()
		m := MarkerOf(pid)
		worst = max(worst, time.Since(start))
		if m != marker {
			missed++
		}
	}
	t.Logf("worst look %v, %d of %d missed", worst, missed, looks)
	if worst > execWait+200*time.Millisecond {
		t.Errorf("a look took %v", worst)
	}
	if missed > 0 {
		t.Errorf("the marker was missed by %d of %d looks", missed, looks)
	}
}

// An unprivileged process, to which the environment of pid 1 is not
// readable (open fails with EACCES), reads it once, as nothing.
func TestEnvironUnreadableNoSpin(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to start a process as nobody")
	}
	dir, err := os.MkdirTemp("", "proctree-attack")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o755)
	bin := filepath.Join(dir, "helper")
	src, err := os.Open(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	dst, err := os.OpenFile(bin, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.Copy(dst, src)
	src.Close()
	if err2 := dst.Close(); err == nil {
		err = err2
	}
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^TestHelperHideEnviron$")
	cmd.Env = []string{helperEnv + "=scan"}
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helper: %v %q", err, out)
	}
	f := strings.Fields(string(out))
	if len(f) != 3 || f[0] != "ready" {
		t.Fatalf("helper: %q", out)
	}
	ns, _ := strconv.ParseInt(f[2], 10, 64)
	t.Logf("unprivileged environ(1): %s bytes in %v", f[1], time.Duration(ns))
	if f[1] != "0" || time.Duration(ns) > 300*time.Millisecond {
		t.Errorf("unprivileged environ(1): %s bytes in %v", f[1], time.Duration(ns))
	}
}

// A process that overwrote its environment with zeros after its start
// reads at once, with no marker; a non-dumpable one is read by root,
// marker and all.
func TestEnvironClearedAndNonDumpable(t *testing.T) {
	cmd := startHelper(t, "clear", EnvKey+"=cleared.1")
	start := time.Now()
	if m := MarkerOf(cmd.Process.Pid); m != "" || time.Since(start) > 300*time.Millisecond {
		t.Errorf("cleared environment: MarkerOf = %q in %v", m, time.Since(start))
	}
	if os.Getuid() != 0 {
		return
	}
	cmd = startHelper(t, "nodump", EnvKey+"=nodump.1")
	start = time.Now()
	if m := MarkerOf(cmd.Process.Pid); m != "nodump.1" || time.Since(start) > 300*time.Millisecond {
		t.Errorf("non-dumpable process: MarkerOf = %q in %v", m, time.Since(start))
	}
}
