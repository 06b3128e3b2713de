//go:build linux

package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// markEnv marks every process a test starts, through the environment
// that childproc run and its commands inherit, so that the test can find
// any left behind.
const markEnv = "CHILDPROC_RUN_TEST_MARK"

// A runResult is how one childproc run ended.
type runResult struct {
	stdout, stderr string
	code           int // -1 when killed by a signal
	state          *os.ProcessState
	took           time.Duration
}

// childprocCmd returns childproc run with args, not started, with a fresh
// mark in its environment and NO_COLOR unset.
func childprocCmd(t *testing.T, args ...string) (*exec.Cmd, string) {
	t.Helper()
	mark := newMark()
	cmd := exec.Command(buildChildproc(t), append([]string{"run"}, args...)...)
	cmd.Env = append(withoutEnv(os.Environ(), "NO_COLOR", "GORACE"), markEnv+"="+mark, "GORACE=atexit_sleep_ms=0 halt_on_error=1")
	cmd.Dir = t.TempDir()
	return cmd, mark
}

func newMark() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func withoutEnv(env []string, keys ...string) []string {
	var out []string
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if !contains(keys, k) {
			out = append(out, kv)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// runChildproc runs childproc run with args to its end (a minute at
// most) and checks that it left no process behind.
func runChildproc(t *testing.T, args ...string) runResult {
	t.Helper()
	cmd, mark := childprocCmd(t, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(time.Minute, func() { cmd.Process.Kill() })
	cmd.Wait()
	timer.Stop()
	checkNoneLeft(t, mark)
	return runResult{stdout.String(), stderr.String(), cmd.ProcessState.ExitCode(), cmd.ProcessState, time.Since(start)}
}

// checkNoneLeft fails the test if a process marked with mark is still
// alive 10 s from now (and kills it).
func checkNoneLeft(t *testing.T, mark string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		left := markedProcesses(mark)
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			for _, pid := range left {
				syscall.Kill(pid, syscall.SIGKILL)
			}
			t.Fatalf("processes left behind: %v", left)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// markedProcesses returns the live processes whose environment holds the
// mark.
func markedProcesses(mark string) []int {
	needle := []byte(markEnv + "=" + mark + "\x00")
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		env, err := os.ReadFile("/proc/" + e.Name() + "/environ")
		if err == nil && (bytes.HasPrefix(env, needle) || bytes.Contains(env, append([]byte{0}, needle...))) && alive(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// alive tells whether pid is a process that is not a zombie.
func alive(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(stat, ')')
	return i > 0 && !bytes.HasPrefix(stat[i+1:], []byte(" Z"))
}

// A running is a childproc run started in the background whose stdout is
// read line by line.
type running struct {
	cmd    *exec.Cmd
	mark   string
	lines  chan string
	mu     sync.Mutex
	stdout []string
	stderr bytes.Buffer
	done   chan struct{}
}

// startChildproc starts childproc run with args.
func startChildproc(t *testing.T, args ...string) *running {
	t.Helper()
	cmd, mark := childprocCmd(t, args...)
	r := &running{cmd: cmd, mark: mark, lines: make(chan string, 1000), done: make(chan struct{})}
	cmd.Stderr = &r.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(r.lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			r.mu.Lock()
			r.stdout = append(r.stdout, sc.Text())
			r.mu.Unlock()
			r.lines <- sc.Text()
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-r.done
		checkNoneLeft(t, mark)
	})
	go func() {
		for range r.lines {
		}
	}()
	go func() {
		cmd.Wait()
		close(r.done)
	}()
	return r
}

// waitOutput waits (30 s at most) until the lines of stdout so far match
// ok, and returns them.
func (r *running) waitOutput(t *testing.T, what string, ok func(lines []string) bool) []string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		r.mu.Lock()
		lines := append([]string(nil), r.stdout...)
		r.mu.Unlock()
		if ok(lines) {
			return lines
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s in stdout:\n%s\nstderr:\n%s", what, strings.Join(lines, "\n"), r.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// wait waits (a minute at most) for childproc to end.
func (r *running) wait(t *testing.T) *os.ProcessState {
	t.Helper()
	select {
	case <-r.done:
		return r.cmd.ProcessState
	case <-time.After(time.Minute):
		t.Fatal("childproc run did not end")
		return nil
	}
}

// pidsIn returns the numbers printed as "pid N" in lines.
func pidsIn(lines []string) []int {
	var pids []int
	for _, l := range lines {
		for _, m := range pidRE.FindAllStringSubmatch(l, -1) {
			pid, _ := strconv.Atoi(m[1])
			pids = append(pids, pid)
		}
	}
	return pids
}

var pidRE = regexp.MustCompile(`pid (\d+)`)

// countPids returns a predicate: at least n "pid N" in the lines.
func countPids(n int) func([]string) bool {
	return func(lines []string) bool { return len(pidsIn(lines)) >= n }
}

// waitPidsGone fails the test if a process of pids is alive after within.
func waitPidsGone(t *testing.T, pids []int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		var left []int
		for _, pid := range pids {
			if alive(pid) {
				left = append(left, pid)
			}
		}
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			for _, pid := range left {
				syscall.Kill(pid, syscall.SIGKILL)
			}
			t.Fatalf("still alive after %v: %v of %v", within, left, pids)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// treeScript is a command that prints its own pid and those of three
// grandchildren: one that ignores SIGTERM (and, started in the
// background by a non-interactive shell, SIGINT), one that leaves the
// process group, and a plain one; then it waits.
const treeScript = `echo pid $$; (trap '' TERM; exec sleep 1000) & echo pid $!; setsid sleep 1000 & echo pid $!; sleep 1000 & echo pid $!; wait`

func TestRunPrefixes(t *testing.T) {
	for _, tc := range []struct {
		name   string
		args   []string
		stdout string
	}{
		{"index", []string{"echo Hello there"}, "[0] Hello there\n[0] echo Hello there exited with code 0\n"},
		{"names", []string{"--names", "one", "echo hi"}, "[one] hi\n[one] echo hi exited with code 0\n"},
		{"fewer names than commands", []string{"-n", "a", "echo x", "sleep 1; echo y"},
			"[a] x\n[a] echo x exited with code 0\n[1] y\n[1] sleep 1; echo y exited with code 0\n"},
		{"pad", []string{"-n", "a,bbb", "--pad-prefix", "echo x", "sleep 1; echo y"},
			"[a  ] x\n[a  ] echo x exited with code 0\n[bbb] y\n[bbb] sleep 1; echo y exited with code 0\n"},
		{"command", []string{"-p", "command", "echo Hello there"}, "[echo..here] Hello there\n[echo..here] echo Hello there exited with code 0\n"},
		{"command length", []string{"-p", "command", "-l", "6", "echo Hello there"}, "[ec..re] Hello there\n[ec..re] echo Hello there exited with code 0\n"},
		{"template", []string{"-p", "{index}-{name}", "-n", "web", "echo hi"}, "0-web hi\n0-web echo hi exited with code 0\n"},
		{"none", []string{"-p", "none", "echo hi"}, "hi\necho hi exited with code 0\n"},
		{"raw", []string{"-r", "echo hi", "sleep 1; printf 'no newline'"}, "hi\nno newline\n"},
		{"hide", []string{"--hide", "1", "echo a", "sleep 1; echo b"}, "[0] a\n[0] echo a exited with code 0\n"},
		{"hide by name", []string{"-n", "x,y", "--hide", "x", "echo a", "sleep 1; echo b"}, "[y] b\n[y] sleep 1; echo b exited with code 0\n"},
		{"partial last line", []string{"printf 'no newline'"}, "[0] no newline\n[0] printf 'no newline' exited with code 0\n"},
		{"lines across writes", []string{`printf 'a\nb'; sleep 0.3; printf 'c\n'`}, "[0] a\n[0] bc\n[0] printf 'a\\nb'; sleep 0.3; printf 'c\\n' exited with code 0\n"},
		{"flags after the commands", []string{"echo hi", "-n", "web"}, "[web] hi\n[web] echo hi exited with code 0\n"},
		{"after --", []string{"-n", "web", "--", "echo hi"}, "[web] hi\n[web] echo hi exited with code 0\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runChildproc(t, tc.args...)
			if r.stdout != tc.stdout || r.code != 0 || r.stderr != "" {
				t.Errorf("got status %d, stdout\n%s\nstderr\n%s\nwant stdout\n%s", r.code, r.stdout, r.stderr, tc.stdout)
			}
		})
	}
}

func TestRunStderrPrefixed(t *testing.T) {
	r := runChildproc(t, "-n", "w", "echo out; echo err >&2; printf 'cut' >&2")
	if r.stdout != "[w] out\n[w] echo out; echo err >&2; printf 'cut' >&2 exited with code 0\n" || r.stderr != "[w] err\n[w] cut\n" {
		t.Errorf("stdout\n%s\nstderr\n%s", r.stdout, r.stderr)
	}
}

func TestRunPidAndTimePrefixes(t *testing.T) {
	r := runChildproc(t, "-p", "pid", "echo $$")
	lines := strings.Split(r.stdout, "\n")
	if f := strings.Fields(lines[0]); len(f) != 2 || f[0] != "["+f[1]+"]" {
		t.Errorf("pid prefix: %q", r.stdout)
	}
	r = runChildproc(t, "-p", "time", "echo hi")
	if !regexp.MustCompile(`^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] hi\n`).MatchString(r.stdout) {
		t.Errorf("time prefix: %q", r.stdout)
	}
	r = runChildproc(t, "-p", "{time}|", "-t", "'at' h a ''EEEE''", "echo hi")
	want := time.Now().Format("at 3 PM 'Monday'|") + " hi\n"
	if !strings.HasPrefix(r.stdout, want) {
		t.Errorf("timestamp format: %q, want %q", r.stdout, want)
	}
}

// TestRunNoInterleaving runs two chatty commands, one writing lines far
// longer than a pipe's buffer, and checks that every line arrives whole,
// with its own prefix.
func TestRunNoInterleaving(t *testing.T) {
	long := strings.Repeat("A", 100000)
	short := strings.Repeat("B", 300)
	r := runChildproc(t,
		"for i in $(seq 20); do head -c 100000 /dev/zero | tr '\\0' A; echo; done",
		fmt.Sprintf("yes %s | head -n 20000", short))
	if r.code != 0 {
		t.Fatalf("status %d: %s", r.code, r.stderr)
	}
	counts := map[string]int{}
	for _, line := range strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n") {
		switch {
		case line == "[0] "+long:
			counts["A"]++
		case line == "[1] "+short:
			counts["B"]++
		case strings.Contains(line, "exited with code 0"):
			counts["exit"]++
		default:
			t.Fatalf("mixed line (%d bytes): %.200q", len(line), line)
		}
	}
	if counts["A"] != 20 || counts["B"] != 20000 || counts["exit"] != 2 {
		t.Errorf("counts %v", counts)
	}
}

// TestRunLongLine: a line longer than maxPartialLine is written in
// pieces of that size, each with its prefix, so that childproc's memory
// stays bounded.
func TestRunLongLine(t *testing.T) {
	r := runChildproc(t, "-p", "none", "--raw", "head -c 2500000 /dev/zero | tr '\\0' A")
	lines := strings.Split(r.stdout, "\n")
	if len(lines) != 4 || len(lines[0]) != maxPartialLine || len(lines[1]) != maxPartialLine || len(lines[2]) != 2500000-2*maxPartialLine || lines[3] != "" {
		t.Errorf("status %d, %d lines", r.code, len(lines))
	}
	r = runChildproc(t, "head -c 2500000 /dev/zero | tr '\\0' A")
	if n := strings.Count(r.stdout, "[0] A"); n != 3 {
		t.Errorf("%d prefixed pieces, want 3", n)
	}
}

// TestRunSuccess checks --success against the examples of concurrently's
// documentation (docs/cli/success.md), and how commands stopped by
// --kill-others count: as failures (they end by SIGTERM), as in
// concurrently.
func TestRunSuccess(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"exit 0", "exit 0"}, 0},
		{[]string{"exit 0", "exit 1"}, 1},
		{[]string{"--success", "all", "exit 2", "exit 0"}, 1},
		{[]string{"--success", "first", "sleep 1 && exit 1", "exit 0"}, 0},
		{[]string{"--success", "first", "sleep 1 && exit 0", "exit 1"}, 1},
		{[]string{"--success", "last", "sleep 1 && exit 0", "exit 1"}, 0},
		{[]string{"--success", "last", "sleep 1 && exit 1", "exit 0"}, 1},
		{[]string{"-s", "command-1", "exit 1", "exit 0"}, 0},
		{[]string{"-s", "command-0", "exit 1", "exit 0"}, 1},
		{[]string{"-s", "command-test", "-n", "server,test", "exit 1", "exit 0"}, 0},
		{[]string{"-s", "!command-1", "exit 0", "exit 1"}, 0},
		{[]string{"-s", "!command-server", "-n", "test,build,server", "exit 0", "exit 0", "exit 3"}, 0},
		{[]string{"-s", "!command-server", "-n", "test,build,server", "exit 0", "exit 4", "exit 0"}, 1},
		// the killed command ends by SIGTERM: a failure for all and last
		{[]string{"-k", "exit 0", "sleep 100"}, 1},
		{[]string{"-k", "-s", "last", "exit 0", "sleep 100"}, 1},
		{[]string{"-k", "-s", "first", "exit 0", "sleep 100"}, 0},
		{[]string{"-k", "-s", "command-0", "exit 0", "sleep 100"}, 0},
		// a command that exits 0 on SIGTERM is a success
		{[]string{"-k", "exit 0", "trap 'exit 0' TERM; sleep 100 & wait"}, 0},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := runChildproc(t, tc.args...)
			if r.code != tc.code {
				t.Errorf("status %d, want %d\nstdout\n%s\nstderr\n%s", r.code, tc.code, r.stdout, r.stderr)
			}
		})
	}
}

func TestRunKillOthers(t *testing.T) {
	r := startChildproc(t, "-k", "-n", "test,server", "sleep 1; echo done", treeScript)
	lines := r.waitOutput(t, "pids", countPids(4))
	pids := pidsIn(lines)
	st := r.wait(t)
	if st.ExitCode() != 1 {
		t.Errorf("status %v, want 1", st)
	}
	lines = r.waitOutput(t, "the stop", func(l []string) bool {
		s := strings.Join(l, "\n")
		return strings.Contains(s, "[test] sleep 1; echo done exited with code 0\n--> Sending SIGTERM to other processes..") &&
			strings.Contains(s, "[server] "+treeScript+" exited with code SIGTERM")
	})
	waitPidsGone(t, pids, 10*time.Second)
	if s := strings.Join(lines, "\n"); !strings.Contains(s, "SIGKILL") {
		// the grandchild that ignores SIGTERM needs the SIGKILL, 5 s later
		t.Errorf("no SIGKILL for the grandchild that ignores SIGTERM:\n%s", s)
	}
}

func TestRunKillOthersOnFail(t *testing.T) {
	// a success stops nothing
	r := runChildproc(t, "--kill-others-on-fail", "exit 0", "sleep 1; echo late")
	if r.code != 0 || !strings.Contains(r.stdout, "[1] late\n") || strings.Contains(r.stdout, "-->") {
		t.Errorf("status %d, stdout\n%s", r.code, r.stdout)
	}
	// a failure stops the rest, at once
	r = runChildproc(t, "--kill-others-on-fail", "--kill-signal", "INT", "--kill-timeout", "300", "exit 3", "sleep 100 & echo pid $!; wait")
	if r.code != 1 || !strings.Contains(r.stdout, "--> Sending SIGINT to other processes..\n") ||
		!strings.Contains(r.stdout, "exited with code SIGINT") || r.took > 20*time.Second {
		t.Errorf("status %d after %v, stdout\n%s", r.code, r.took, r.stdout)
	}
	// the background sleep ignores SIGINT (a non-interactive shell's
	// background job): only the SIGKILL 300 ms later ends it
	if !strings.Contains(r.stdout, "--> Sending SIGKILL to 1 processes..\n") {
		t.Errorf("no forced kill:\n%s", r.stdout)
	}
}

func TestRunRestart(t *testing.T) {
	r := runChildproc(t, "--restart-tries", "2", "exit 1")
	want := "[0] exit 1 exited with code 1\n[0] exit 1 restarted\n[0] exit 1 exited with code 1\n[0] exit 1 restarted\n[0] exit 1 exited with code 1\n"
	if r.stdout != want || r.code != 1 {
		t.Errorf("status %d, stdout\n%s\nwant\n%s", r.code, r.stdout, want)
	}

	// fails twice, then succeeds: status 0
	counter := `n=$(cat n 2>/dev/null || echo 0); echo $((n+1)) > n; echo run $n; [ $n -ge 2 ]`
	r = runChildproc(t, "--restart-tries", "-1", "--restart-after", "300", counter)
	if r.code != 0 || strings.Count(r.stdout, "restarted") != 2 || !strings.Contains(r.stdout, "[0] run 2\n") {
		t.Errorf("status %d, stdout\n%s", r.code, r.stdout)
	}
	if r.took < 600*time.Millisecond {
		t.Errorf("two restarts 300 ms apart took %v", r.took)
	}

	r = runChildproc(t, "--restart-tries", "2", "--restart-after", "exponential", "exit 1")
	if r.code != 1 || r.took < 3*time.Second {
		t.Errorf("exponential: status %d after %v (want 1 s then 2 s)", r.code, r.took)
	}

	// a success is not restarted
	r = runChildproc(t, "--restart-tries", "3", "echo ok")
	if strings.Contains(r.stdout, "restarted") || r.code != 0 {
		t.Errorf("status %d, stdout\n%s", r.code, r.stdout)
	}
}

// TestRunStoppedNotRestarted: a command stopped by --kill-others is not
// restarted, although it failed (concurrently restarts it: issue 496 of
// open-cli-tools/concurrently).
func TestRunStoppedNotRestarted(t *testing.T) {
	r := runChildproc(t, "-k", "--restart-tries", "5", "sleep 0.5", "sleep 100")
	if strings.Contains(r.stdout, "restarted") || strings.Count(r.stdout, "sleep 100 exited") != 1 || r.took > 20*time.Second {
		t.Errorf("after %v, stdout\n%s", r.took, r.stdout)
	}
	// nor is one waiting for its restart
	r = runChildproc(t, "-k", "--restart-tries", "5", "--restart-after", "60s", "sleep 1", "exit 1")
	if strings.Contains(r.stdout, "restarted") || r.took > 20*time.Second {
		t.Errorf("after %v, stdout\n%s", r.took, r.stdout)
	}
}

// TestRunSignals sends SIGINT or SIGTERM to childproc run: every command
// and its whole tree end (the grandchild that ignores the signal by
// SIGKILL after --kill-timeout), and childproc ends by the same signal.
func TestRunSignals(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			r := startChildproc(t, "--kill-timeout", "500", treeScript, treeScript, "echo pid $$; exec sleep 1000")
			pids := pidsIn(r.waitOutput(t, "pids", countPids(9)))
			start := time.Now()
			r.cmd.Process.Signal(sig)
			st := r.wait(t)
			if ws := st.Sys().(syscall.WaitStatus); !ws.Signaled() || ws.Signal() != sig {
				t.Errorf("childproc ended with %v, want killed by %v; stderr: %s", st, sig, r.stderr.String())
			}
			waitPidsGone(t, pids, 5*time.Second)
			if took := time.Since(start); took < 500*time.Millisecond {
				t.Errorf("stopped in %v, before the SIGKILL that the ignoring grandchild needs", took)
			}
			// The two trees whose grandchildren ignore the signal get the
			// SIGKILL; a shell of theirs that has already exited is not
			// counted among the processes, so the count is 1 or 2.
			lines := r.waitOutput(t, "the forced kill", func(l []string) bool {
				out := strings.Join(l, "\n")
				return strings.Contains(out, "--> Sending SIGKILL to 2 processes..") || strings.Contains(out, "--> Sending SIGKILL to 1 processes..")
			})
			if n := strings.Count(strings.Join(lines, "\n"), "exited with code "); n != 3 {
				t.Errorf("%d exits logged:\n%s", n, strings.Join(lines, "\n"))
			}
		})
	}
}

// TestRunSecondSignalKills: a second signal SIGKILLs at once what the
// first did not stop.
func TestRunSecondSignalKills(t *testing.T) {
	r := startChildproc(t, "--kill-timeout", "60s", "echo pid $$; trap '' TERM; sleep 1000 & echo pid $!; wait")
	pids := pidsIn(r.waitOutput(t, "pids", countPids(2)))
	r.cmd.Process.Signal(syscall.SIGTERM)
	time.Sleep(500 * time.Millisecond)
	for _, pid := range pids {
		if !alive(pid) {
			t.Fatalf("%d ended on SIGTERM, which it ignores", pid)
		}
	}
	r.cmd.Process.Signal(syscall.SIGTERM)
	r.wait(t)
	waitPidsGone(t, pids, 5*time.Second)
}

// TestRunSIGKILL kills childproc run itself with SIGKILL: the commands'
// trees are stopped all the same (the guardian), the grandchild that
// ignores SIGTERM after --kill-timeout.
func TestRunSIGKILL(t *testing.T) {
	r := startChildproc(t, "--kill-timeout", "500", treeScript, treeScript)
	pids := pidsIn(r.waitOutput(t, "pids", countPids(8)))
	r.cmd.Process.Kill()
	r.wait(t)
	waitPidsGone(t, pids, 10*time.Second)
	checkNoneLeft(t, r.mark)
}

func TestRunBadInput(t *testing.T) {
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--bogus", "touch ran"}, "flag provided but not defined: -bogus"},
		{[]string{"touch ran", "-n"}, "flag needs an argument: -n"},
		{[]string{}, "no commands"},
		{[]string{"-n", "a,b"}, "no commands"},
		{[]string{"--success", "most", "touch ran"}, `invalid value "most" for flag -success`},
		{[]string{"--success", "command-", "touch ran"}, `invalid value "command-" for flag -success`},
		{[]string{"--success", "command-X", "touch ran"}, `--success command-X: no command is named "X"`},
		{[]string{"--success", "!command-1", "touch ran"}, `--success !command-1: no command is named "1"`},
		{[]string{"-n", "a,b", "--success", "command-c", "touch ran", "touch ran"}, `no command is named "c"`},
		{[]string{"--restart-tries", "x", "touch ran"}, `invalid value "x" for flag -restart-tries`},
		{[]string{"--restart-after", "soon", "touch ran"}, `invalid value "soon" for flag -restart-after`},
		{[]string{"--kill-timeout", "-5", "touch ran"}, `invalid value "-5" for flag -kill-timeout`},
		{[]string{"--kill-signal", "SIGNOPE", "touch ran"}, `invalid value "SIGNOPE" for flag -kill-signal`},
		{[]string{"-c", "red,purple", "touch ran"}, `unknown colour "purple"`},
		{[]string{"-t", "yyyy Q", "touch ran"}, `invalid value "yyyy Q" for flag -t`},
		{[]string{"-t", "'open", "touch ran"}, "unterminated quote"},
		{[]string{"-l", "0", "touch ran"}, "prefix-length"},
		{[]string{"touch ran", " "}, "command 1 is empty"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			cmd, mark := childprocCmd(t, tc.args...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			cmd.Run()
			checkNoneLeft(t, mark)
			if code := cmd.ProcessState.ExitCode(); code != 255 {
				t.Errorf("status %d, want 255", code)
			}
			if msg := stderr.String(); !strings.HasPrefix(msg, "childproc run: ") || !strings.Contains(msg, tc.msg) || strings.Count(msg, "\n") != 1 {
				t.Errorf("stderr %q, want one line with %q", msg, tc.msg)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout %q", stdout.String())
			}
			if _, err := os.Stat(filepath.Join(cmd.Dir, "ran")); err == nil {
				t.Error("the command ran")
			}
		})
	}
}

func TestRunHelp(t *testing.T) {
	for _, args := range [][]string{{"run", "--help"}, {"run", "-h"}, {"help", "run"}} {
		out, err := exec.Command(buildChildproc(t), args...).Output()
		if err != nil || !strings.HasPrefix(string(out), "usage: childproc run") || !strings.Contains(string(out), "--kill-others-on-fail") {
			t.Errorf("%v: %v\n%s", args, err, out)
		}
	}
	out, _ := exec.Command(buildChildproc(t), "help").Output()
	if !strings.Contains(string(out), "run ") {
		t.Errorf("childproc help does not list run:\n%s", out)
	}
}

func TestRunNoColourThroughPipe(t *testing.T) {
	r := runChildproc(t, "-c", "red", "echo hi; echo err >&2")
	if strings.Contains(r.stdout+r.stderr, "\x1b") {
		t.Errorf("escape codes through a pipe: %q %q", r.stdout, r.stderr)
	}
}

// TestRunColourOnTerminal runs childproc run in a real terminal (tmux)
// and reads the screen: coloured prefixes (as escape codes, and as a
// person sees the text), none with NO_COLOR or --no-color.
func TestRunColourOnTerminal(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("no tmux")
	}
	bin := buildChildproc(t)
	cases := []struct {
		name, env, flags string
		colour           bool
	}{
		{"colour", "", "", true},
		{"NO_COLOR", "NO_COLOR=1", "", false},
		{"--no-color", "", "--no-color", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mark := newMark()
			script := fmt.Sprintf(`env -u NO_COLOR -u FORCE_COLOR -u COLORTERM %s %s=%s TERM=xterm-256color %s run %s -n web,api -c red,auto 'echo hello FORCE_COLOR=$FORCE_COLOR.' 'sleep 1; echo world >&2'; echo STATUS $?`,
				tc.env, markEnv, mark, bin, tc.flags)
			screen, plain := tmuxRun(t, script)
			checkNoneLeft(t, mark)
			force := "FORCE_COLOR=." // the commands are told to colour only when childproc does
			if tc.colour {
				force = "FORCE_COLOR=2."
			}
			for _, want := range []string{"[web] hello " + force, "[api] world", "[web] echo hello FORCE_COLOR=$FORCE_COLOR. exited with code 0", "STATUS 0"} {
				if !strings.Contains(plain, want) {
					t.Errorf("the screen lacks %q:\n%s", want, plain)
				}
			}
			red := "\x1b[31m[web]"
			cyan := "\x1b[36m[api]" // the first auto colour
			if got := strings.Contains(screen, red) && strings.Contains(screen, cyan); got != tc.colour {
				t.Errorf("coloured prefixes: %v, want %v:\n%q", got, tc.colour, screen)
			}
			if !tc.colour && strings.Contains(screen, "\x1b[3") {
				t.Errorf("colour codes:\n%q", screen)
			}
		})
	}
}

// tmuxRun runs script in a new tmux server's 120×30 window until it
// prints "STATUS", and returns the screen with its escape codes and as
// plain text.
func tmuxRun(t *testing.T, script string) (screen, plain string) {
	t.Helper()
	sock := "childproc-run-" + newMark()
	tmux := func(args ...string) (string, error) {
		out, err := exec.Command("tmux", append([]string{"-L", sock}, args...)...).CombinedOutput()
		return string(out), err
	}
	if out, err := tmux("new-session", "-d", "-x", "120", "-y", "30", "sh", "-c", script+"; sleep 60"); err != nil {
		t.Fatalf("tmux: %v %s", err, out)
	}
	defer tmux("kill-server")
	deadline := time.Now().Add(30 * time.Second)
	for {
		plain, _ = tmux("capture-pane", "-p")
		if strings.Contains(plain, "STATUS") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no STATUS on the screen:\n%s", plain)
		}
		time.Sleep(50 * time.Millisecond)
	}
	screen, err := tmux("capture-pane", "-p", "-e")
	if err != nil {
		t.Fatal(err)
	}
	return screen, plain
}

func TestTimeFormat(t *testing.T) {
	at := time.Date(2024, 9, 1, 23, 43, 5, 871_000_000, time.UTC)
	for pattern, want := range map[string]string{
		"yyyy-MM-dd HH:mm:ss.SSS": "2024-09-01 23:43:05.871",
		"yy/M/d h:m:s a":          "24/9/1 11:43:5 PM",
		"EEE MMM d":               "Sun Sep 1",
		"EEEE, MMMM":              "Sunday, September",
		"'at' HH 'o''clock'":      "at 23 o'clock",
		"S SSSSSSSSSS":            "8 8710000000",
	} {
		var f timeFormat
		if err := f.Set(pattern); err != nil {
			t.Errorf("%q: %v", pattern, err)
			continue
		}
		if got := f.format(at); got != want {
			t.Errorf("%q: %q, want %q", pattern, got, want)
		}
	}
}

func TestShorten(t *testing.T) {
	for _, tc := range []struct {
		text string
		n    int
		want string
	}{
		{"echo Hello there", 10, "echo..here"},
		{"echo 'General Kenobi!'", 10, "echo..bi!'"},
		{"short", 10, "short"},
		{"abcdef", 2, ".."},
	} {
		if got := shorten(tc.text, tc.n); got != tc.want {
			t.Errorf("shorten(%q, %d) = %q, want %q", tc.text, tc.n, got, tc.want)
		}
	}
}

// Example_run runs two commands side by side; every line is prefixed with
// its command's name, and a line says how each ended.
func Example_run() {
	runMain([]string{"--names", "build,serve", "echo built", "sleep 1; echo serving"}, nil, os.Stdout, os.Stderr)
	// Output:
	// [build] built
	// [build] echo built exited with code 0
	// [serve] serving
	// [serve] sleep 1; echo serving exited with code 0
}

// TestRunStartFailure: a command that cannot start (here: no file
// descriptors left for its pipes) is an error line and a failure, and is
// not restarted.
func TestRunStartFailure(t *testing.T) {
	cmd, mark := childprocCmd(t, "--restart-tries", "3", "touch ran")
	cmd.Args = []string{"sh", "-c", `ulimit -n 10; exec "$0" "$@"`, cmd.Path, "run", "--restart-tries", "3", "touch ran"}
	cmd.Path = "/bin/sh"
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Run()
	checkNoneLeft(t, mark)
	lines := strings.Split(stdout.String(), "\n")
	if code := cmd.ProcessState.ExitCode(); code != 1 || len(lines) != 3 || lines[0] != "[0] Error occurred when executing command: touch ran" || !strings.Contains(lines[1], "EMFILE") {
		t.Errorf("status %d, stdout\n%s\nstderr\n%s", code, stdout.String(), stderr.String())
	}
	if _, err := os.Stat(filepath.Join(cmd.Dir, "ran")); err == nil {
		t.Error("the command ran")
	}
}
