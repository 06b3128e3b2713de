//go:build linux

package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// joblogRow is GNU parallel's row: Seq, Host (":" for this machine),
// Starttime with three decimals, JobRuntime as %10.3f, Send, Receive, Exitval, Signal, Command.
var joblogRow = regexp.MustCompile(`^([0-9]+)\t([^\t]+)\t[0-9]{10}\.[0-9]{3}\t( {0,9}[0-9]+\.[0-9]{3})\t0\t([0-9]+)\t(-?[0-9]+)\t([0-9]+)\t(.*)$`)

// logRows reads a joblog, checking its header and the format of every
// row, and returns the rows by job number (the last one of each):
// JobRuntime, Receive, Exitval, Signal, Command, then Host.
func logRows(t *testing.T, path string) map[int][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if lines[0]+"\n" != joblogHeader {
		t.Fatalf("joblog header %q", lines[0])
	}
	rows := map[int][]string{}
	for _, l := range lines[1:] {
		m := joblogRow.FindStringSubmatch(l)
		if m == nil || len(m[3]) != 10 {
			t.Fatalf("joblog row %q is not in GNU's format", l)
		}
		seq, _ := strconv.Atoi(m[1])
		rows[seq] = append(m[3:], m[2])
	}
	return rows
}

// TestParallelJoblog: the exact format, Receive counting stdout, the exit
// value and signal, and the truncation of an earlier joblog.
func TestParallelJoblog(t *testing.T) {
	log := filepath.Join(t.TempDir(), "log")
	os.WriteFile(log, []byte("old content\n"), 0o666)
	r := parallel(t, "", "--joblog", log, "-k", "echo {}; kill -{} $$", ":::", "9", "15")
	rows := logRows(t, log)
	want := map[int][]string{1: {"2", "0", "9", "echo 9; kill -9 $$", ":"}, 2: {"3", "0", "15", "echo 15; kill -15 $$", ":"}}
	if len(rows) != 2 {
		t.Fatalf("joblog rows %v, want only this run's", rows)
	}
	for seq, w := range want {
		if got := rows[seq][1:]; !slices.Equal(got, w) {
			t.Errorf("job %d: Receive, Exitval, Signal, Command, Host = %q, want %q", seq, got, w)
		}
	}
	r = parallel(t, "", "--joblog", log, "printf %s {}; exit {}", ":::", "0", "1", "22")
	rows = logRows(t, log)
	for seq, w := range map[int][]string{1: {"1", "0", "0"}, 2: {"1", "1", "0"}, 3: {"2", "22", "0"}} {
		if got := rows[seq][1:4]; !slices.Equal(got, w) {
			t.Errorf("job %d: Receive, Exitval, Signal = %q, want %q", seq, got, w)
		}
	}
	if r.code != 2 {
		t.Errorf("exit %d, want 2 failed jobs", r.code)
	}
}

// TestParallelResume: --resume skips the jobs the joblog has, whatever
// their status; --resume-failed runs the failed ones again and appends.
func TestParallelResume(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "log")
	r := parallel(t, "", "--joblog", log, "-k", "echo {}; test {} != 2", ":::", "1", "2")
	if r.code != 1 {
		t.Fatalf("exit %d", r.code)
	}
	r = parallel(t, "", "--resume", "--joblog", log, "-k", "echo {}; test {} != 2", ":::", "1", "2", "3", "4")
	if r.stdout != "3\n4\n" || r.code != 0 {
		t.Errorf("--resume ran %q (exit %d), want jobs 3 and 4", r.stdout, r.code)
	}
	r = parallel(t, "", "--resume-failed", "--joblog", log, "-k", "echo {}; test {} != 2", ":::", "1", "2", "3", "4")
	if r.stdout != "2\n" || r.code != 1 {
		t.Errorf("--resume-failed ran %q (exit %d), want job 2", r.stdout, r.code)
	}
	if n := strings.Count(readFile(t, log), "\n"); n != 6 {
		t.Errorf("joblog has %d lines, want a header and 5 rows:\n%s", n, readFile(t, log))
	}
}

// TestParallelResumeRefusesChangedInput: a joblog whose commands the
// input no longer makes is refused, before anything runs.
func TestParallelResumeRefusesChangedInput(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "log")
	parallel(t, "", "--joblog", log, "echo", ":::", "a", "b")
	before := readFile(t, log)
	for _, args := range [][]string{
		{"echo", ":::", "a", "c", "d"}, // job 2 is another
		{"echo", ":::", "a"},           // job 2 is gone
		{"printf", ":::", "a", "b"},    // another command
	} {
		for _, mode := range []string{"--resume", "--resume-failed"} {
			r := parallel(t, "", append([]string{mode, "--joblog", log}, args...)...)
			if r.code != 255 || r.stdout != "" || !strings.Contains(r.stderr, "does not match the input") {
				t.Errorf("%s %q: exit %d, stdout %q, stderr %q; want a refusal", mode, args, r.code, r.stdout, r.stderr)
			}
		}
	}
	if readFile(t, log) != before {
		t.Error("a refused resume changed the joblog")
	}
}

// TestParallelResumeAfterSIGKILL: after childproc parallel is SIGKILLed,
// no job is left running, every joblog row is whole, and --resume runs
// exactly the jobs that had not finished.
func TestParallelResumeAfterSIGKILL(t *testing.T) {
	dir := t.TempDir()
	log, ran := filepath.Join(dir, "log"), filepath.Join(dir, "ran")
	sleep := "1000." + strconv.Itoa(os.Getpid()) // marks the sleepers
	sleepers := "sleep\x00" + sleep              // their command line
	// Jobs 1-6 finish at once and append their number to ran; the
	// others sleep, each under a shell, unless $QUICK is set.
	script := `if [ {} -gt 6 ] && [ -z "$QUICK" ]; then sleep ` + sleep + `; fi; echo {} >> ` + ran
	args := []string{"parallel", "-j4", "--joblog", log, script, ":::"}
	for i := 1; i <= 12; i++ {
		args = append(args, strconv.Itoa(i))
	}
	cmd := exec.Command(buildChildproc(t), args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "6 jobs finished and 4 sleeping", func() bool {
		return strings.Count(readFileOr(log), "\n") == 7 && len(pgrep(sleepers)) == 4
	})
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	waitFor(t, "the sleeping jobs gone", func() bool { return len(pgrep(sleepers)) == 0 })
	if rows := logRows(t, log); len(rows) != 6 {
		t.Fatalf("joblog has %d rows, want 6", len(rows))
	}
	r := runBin(t, []string{"QUICK=1"}, "", buildChildproc(t), append([]string{"parallel", "-j4", "--resume"}, args[2:]...)...)
	if r.code != 0 {
		t.Fatalf("--resume: exit %d: %s", r.code, r.stderr)
	}
	got := strings.Fields(readFile(t, ran))
	slices.SortFunc(got, func(a, b string) int { x, _ := strconv.Atoi(a); y, _ := strconv.Atoi(b); return x - y })
	if want := strings.Fields("1 2 3 4 5 6 7 8 9 10 11 12"); !slices.Equal(got, want) {
		t.Errorf("jobs that ran: %q, want each of 1-12 once", got)
	}
	if rows := logRows(t, log); len(rows) != 12 {
		t.Errorf("joblog has %d jobs after --resume, want 12", len(rows))
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func readFileOr(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

// pgrep returns the pids of processes whose command line holds mark.
func pgrep(mark string) []int {
	var pids []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && strings.Contains(string(b), mark) && !isZombie(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

func isZombie(pid int) bool {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return true
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "State:"); ok {
			return strings.Contains(v, "Z")
		}
	}
	return false
}

// waitFor polls cond for up to 30 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
