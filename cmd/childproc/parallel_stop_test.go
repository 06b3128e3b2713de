//go:build linux

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestParallelRetries: --retries N is N attempts in all; only the last
// attempt's output and joblog row appear; a success stops the retries.
func TestParallelRetries(t *testing.T) {
	dir := t.TempDir()
	log, count := filepath.Join(dir, "log"), filepath.Join(dir, "count")
	r := parallel(t, "", "--retries", "3", "--joblog", log,
		`echo {} >> `+count+`; n=$(wc -l < `+count+`); echo try $n; echo err $n >&2; exit 1`, ":::", "a")
	if n := strings.Count(readFile(t, count), "a"); n != 3 {
		t.Errorf("%d attempts, want 3", n)
	}
	if r.stdout != "try 3\n" || r.stderr != "err 3\n" || r.code != 1 {
		t.Errorf("stdout %q, stderr %q, exit %d; want only the last attempt's, exit 1", r.stdout, r.stderr, r.code)
	}
	if rows := logRows(t, log); len(rows) != 1 || rows[1][2] != "1" {
		t.Errorf("joblog rows %v, want one for the last attempt", rows)
	}
	os.Remove(count)
	r = parallel(t, "", "--retries", "5", `echo {} >> `+count+`; test $(wc -l < `+count+`) -ge 2`, ":::", "a")
	if n := strings.Count(readFile(t, count), "a"); n != 2 || r.code != 0 {
		t.Errorf("%d attempts, exit %d; want 2 (the second succeeds), exit 0", n, r.code)
	}
}

// TestParallelTimeoutIgnoringTERM: a job that ignores SIGTERM is killed
// after GNU's TERM,200,TERM,100,TERM,50,KILL,25, with its whole tree:
// joblog Exitval -1 and Signal 9; one that ends on TERM has Signal 15.
func TestParallelTimeoutIgnoringTERM(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "log")
	sleep := "1000." + strconv.Itoa(os.Getpid())
	start := time.Now()
	r := parallel(t, "", "-k", "--timeout", "0.5", "--joblog", log, "{}", ":::",
		"trap '' TERM; sleep "+sleep+"; echo survived", // the sleeper inherits the ignored TERM
		"sleep "+sleep+"1", "true")
	took := time.Since(start)
	if r.code != 2 {
		t.Errorf("exit %d, want 2 timed-out jobs (%s)", r.code, r.stderr)
	}
	if strings.Contains(r.stdout, "survived") {
		t.Error("the job ran on after its KILL")
	}
	rows := logRows(t, log)
	if rows[1][2] != "-1" || rows[1][3] != "9" || rows[2][2] != "-1" || rows[2][3] != "15" || rows[3][2] != "0" {
		t.Errorf("joblog %v; want -1 and 9, -1 and 15, then 0", rows)
	}
	if took > 10*time.Second {
		t.Errorf("took %v", took)
	}
	if rt, _ := strconv.ParseFloat(strings.TrimSpace(rows[1][0]), 64); rt < 0.8 {
		t.Errorf("the job ignoring TERM ran %.3fs; the termseq gives it 0.5 s + 350 ms", rt)
	}
	if p := pgrep("sleep\x00" + sleep); len(p) > 0 {
		t.Errorf("left running: %v", p)
	}
	if !strings.Contains(r.stderr, "This job was killed because it timed out") {
		t.Errorf("stderr %q", r.stderr)
	}
}

// TestParallelTermseq: --termseq sets the signals of a stop and their
// waits.
func TestParallelTermseq(t *testing.T) {
	log := filepath.Join(t.TempDir(), "log")
	r := parallel(t, "", "--timeout", "0.2", "--termseq", "INT,2000,KILL,25", "--joblog", log,
		"trap 'echo got INT; exit 0' INT; echo {}; while :; do sleep 0.1; done", ":::", "1")
	rows := logRows(t, log)
	if !strings.Contains(r.stdout, "got INT") || r.code != 1 || rows[1][2] != "-1" || rows[1][3] != "2" {
		t.Errorf("stdout %q, joblog %v; want the job stopped by SIGINT", r.stdout, rows)
	}
}

// TestParallelTimeoutPercent: --timeout N% stops a job that runs past N%
// of the median run time of the jobs before it.
func TestParallelTimeoutPercent(t *testing.T) {
	log := filepath.Join(t.TempDir(), "log")
	start := time.Now()
	r := parallel(t, "", "-j1", "--timeout", "300%", "--joblog", log, "sleep", ":::", "0.2", "0.2", "0.2", "0.2", "20")
	if r.code != 1 || time.Since(start) > 15*time.Second {
		t.Errorf("exit %d after %v; want the 20 s job stopped (%s)", r.code, time.Since(start), r.stderr)
	}
	if rows := logRows(t, log); rows[5][2] != "-1" || rows[4][2] != "0" {
		t.Errorf("joblog %v", rows)
	}
}

// TestParallelDelay: --delay spaces the starts of jobs.
func TestParallelDelay(t *testing.T) {
	log := filepath.Join(t.TempDir(), "log")
	parallel(t, "", "-j3", "--delay", "0.3", "--joblog", log, "true", ":::", "1", "2", "3")
	rows := startTimes(t, log)
	for i := 1; i < len(rows); i++ {
		if gap := rows[i] - rows[i-1]; gap < 0.29 {
			t.Errorf("job %d started %.3fs after job %d, want 0.3 s", i+1, gap, i)
		}
	}
}

// startTimes returns the Starttime column of a joblog in row order.
func startTimes(t *testing.T, log string) []float64 {
	var times []float64
	for _, l := range strings.Split(strings.TrimSpace(readFile(t, log)), "\n")[1:] {
		f, _ := strconv.ParseFloat(strings.Split(l, "\t")[2], 64)
		times = append(times, f)
	}
	return times
}

// TestParallelHaltNowStopsTrees: --halt now stops the running jobs with
// their whole trees; they are not in the joblog, so --resume runs them.
func TestParallelHaltNowStopsTrees(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "log")
	sleep := "1000." + strconv.Itoa(os.Getpid())
	r := parallel(t, "", "-j3", "--halt", "now,fail=1", "--joblog", log, "{}", ":::",
		"sh -c 'sleep "+sleep+"' & wait", "sh -c 'sleep "+sleep+"' & wait", "sleep 0.5; exit 4")
	if r.code != 4 {
		t.Errorf("exit %d, want the failed job's 4 (%s)", r.code, r.stderr)
	}
	if p := pgrep("sleep\x00" + sleep); len(p) > 0 {
		t.Errorf("left running: %v", p)
	}
	if rows := logRows(t, log); len(rows) != 1 || rows[3] == nil {
		t.Errorf("joblog %v, want only job 3", rows)
	}
}

// TestParallelSignalStopsJobs: SIGTERM or SIGINT to childproc parallel
// stops every job and its tree, keeps the joblog of the finished ones,
// and exits with 255.
func TestParallelSignalStopsJobs(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		dir := t.TempDir()
		log := filepath.Join(dir, "log")
		sleep := "1000." + strconv.Itoa(os.Getpid()) + strconv.Itoa(int(sig))
		cmd := exec.Command(buildChildproc(t), "parallel", "-j3", "--joblog", log, "{}", ":::",
			"true", "sh -c 'sleep "+sleep+"'", "trap '' TERM; sleep "+sleep)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the jobs to run", func() bool {
			return len(pgrep("sleep\x00"+sleep)) == 2 && strings.Count(readFileOr(log), "\n") == 2
		})
		start := time.Now()
		cmd.Process.Signal(sig)
		err := cmd.Wait()
		if code := cmd.ProcessState.ExitCode(); code != 255 {
			t.Errorf("%v: exit %d (%v), want 255", sig, code, err)
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("%v: took %v to stop", sig, took)
		}
		if p := pgrep("sleep\x00" + sleep); len(p) > 0 {
			t.Errorf("%v: left running: %v", sig, p)
		}
		if rows := logRows(t, log); len(rows) != 1 {
			t.Errorf("%v: joblog %v, want the finished job only", sig, rows)
		}
	}
}
