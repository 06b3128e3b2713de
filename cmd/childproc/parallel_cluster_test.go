//go:build linux

package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// A testCluster is a cache directory of its own, where childproc
// parallel --cluster starts this user's embedded server (a real
// nats-server with JetStream, in the submitter's process), and the
// childproc worker processes that join it.
type testCluster struct {
	t   *testing.T
	env []string // XDG_CACHE_HOME, so the server lives in the test's directory
	dir string   // the embedded server's directory
}

func newTestCluster(t *testing.T) *testCluster {
	cache := t.TempDir()
	return &testCluster{t: t, env: []string{"XDG_CACHE_HOME=" + cache}, dir: filepath.Join(cache, "childproc", "cluster")}
}

// A syncBuffer is a bytes.Buffer that a process writes while the test
// reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// A testWorker is a childproc worker process.
type testWorker struct {
	cmd    *exec.Cmd
	stderr syncBuffer
	done   chan struct{}
}

// worker starts childproc worker with args; the test's end stops it
// with SIGTERM, and checks that it exits 0.
func (c *testCluster) worker(args ...string) *testWorker {
	c.t.Helper()
	w := &testWorker{done: make(chan struct{})}
	w.cmd = exec.Command(buildChildproc(c.t), append([]string{"worker"}, args...)...)
	w.cmd.Env = append(os.Environ(), c.env...)
	w.cmd.Stderr = &w.stderr
	if err := w.cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	go func() {
		w.cmd.Wait()
		close(w.done)
	}()
	c.t.Cleanup(func() {
		w.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-w.done:
		case <-time.After(30 * time.Second):
			w.cmd.Process.Kill()
			<-w.done
			c.t.Errorf("childproc worker did not stop within 30 s of SIGTERM; stderr:\n%s", w.stderr.String())
			return
		}
		if code := w.cmd.ProcessState.ExitCode(); code != 0 && code != -1 {
			c.t.Errorf("childproc worker: exit %d after SIGTERM; stderr:\n%s", code, w.stderr.String())
		}
	})
	return w
}

// kill SIGKILLs the worker and waits for it.
func (w *testWorker) kill() {
	w.cmd.Process.Signal(syscall.SIGKILL)
	<-w.done
}

// parallel runs childproc parallel --cluster (the embedded server) with
// args.
func (c *testCluster) parallel(stdin string, args ...string) result {
	c.t.Helper()
	return runBin(c.t, c.env, stdin, buildChildproc(c.t), append([]string{"parallel", "--cluster"}, args...)...)
}

// A submitter is a childproc parallel --cluster started in the
// background.
type submitter struct {
	cmd            *exec.Cmd
	stdin          io.WriteCloser
	stdout, stderr syncBuffer
	done           chan struct{}
}

// submit starts childproc parallel --cluster with args and writes
// stdin to its stdin, which stays open until wait.
func (c *testCluster) submit(stdin string, args ...string) *submitter {
	c.t.Helper()
	s := &submitter{done: make(chan struct{})}
	s.cmd = exec.Command(buildChildproc(c.t), append([]string{"parallel", "--cluster"}, args...)...)
	s.cmd.Env = append(os.Environ(), c.env...)
	s.cmd.Stdout, s.cmd.Stderr = &s.stdout, &s.stderr
	in, err := s.cmd.StdinPipe()
	if err != nil {
		c.t.Fatal(err)
	}
	s.stdin = in
	if err := s.cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	io.WriteString(in, stdin)
	go func() {
		s.cmd.Wait()
		close(s.done)
	}()
	c.t.Cleanup(func() {
		s.cmd.Process.Kill()
		<-s.done
	})
	return s
}

// wait closes the submitter's stdin and waits (a minute at most) for it
// to end.
func (s *submitter) wait(t *testing.T) result {
	t.Helper()
	s.stdin.Close()
	select {
	case <-s.done:
	case <-time.After(time.Minute):
		t.Fatalf("childproc parallel --cluster did not end within a minute; stderr:\n%s", s.stderr.String())
	}
	return result{s.stdout.String(), s.stderr.String(), s.cmd.ProcessState.ExitCode()}
}

// kill SIGKILLs the submitter, and with it its embedded server.
func (s *submitter) kill() {
	s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.done
}

// url returns the address of the running embedded server.
func (c *testCluster) url() string {
	c.t.Helper()
	var u string
	waitFor(c.t, "the embedded server's address", func() bool {
		b, err := os.ReadFile(filepath.Join(c.dir, "url"))
		u = strings.TrimSpace(string(b))
		return err == nil && u != ""
	})
	return u
}

// clusterJob prints to both streams (GOMAXPROCS too, which the worker's
// local pool must not set for its jobs), after a sleep that makes later
// jobs end first, and fails for every fourth argument.
const clusterJob = `sleep 0.$(( 9 - {} )); echo out {} "$PARALLEL_SEQ" "${GOMAXPROCS-unset}"; echo err {} >&2; test $(( {} % 4 )) -ne 0`

// TestClusterOutputMatchesLocal: with two workers, childproc parallel
// --cluster prints byte for byte what a local run prints, with -k and
// with --tag (in order as well: results come in input order), exits as
// it does, and writes the same joblog rows with the worker's host name;
// a direct command (no shell) and its quoted words travel intact.
func TestClusterOutputMatchesLocal(t *testing.T) {
	c := newTestCluster(t)
	c.worker("-j", "2")
	c.worker("-j", "2")
	args := strings.Fields("1 2 3 4 5 6 7 8")
	host, _ := os.Hostname()
	for _, run := range []struct {
		flags   []string
		command string
	}{
		{[]string{"-k"}, clusterJob},
		{[]string{"-k", "--tag"}, clusterJob},
		{[]string{"--tag", "-k", "--tagstring", "{#}:{.}"}, "echo 'a  b' {}"},
	} {
		dir := t.TempDir()
		localLog, clusterLog := filepath.Join(dir, "local"), filepath.Join(dir, "cluster")
		cmdline := append(slices.Clone(run.flags), run.command, ":::")
		cmdline = append(cmdline, args...)
		local := parallel(t, "", append([]string{"--joblog", localLog}, cmdline...)...)
		remote := c.parallel("", append([]string{"--joblog", clusterLog}, cmdline...)...)
		if remote.stdout != local.stdout || remote.stderr != local.stderr || remote.code != local.code {
			t.Errorf("%q:\ncluster: exit %d, stdout\n%s\nstderr\n%s\nlocal: exit %d, stdout\n%s\nstderr\n%s",
				cmdline, remote.code, remote.stdout, remote.stderr, local.code, local.stdout, local.stderr)
		}
		lrows, crows := logRows(t, localLog), logRows(t, clusterLog)
		for seq, l := range lrows {
			cr := crows[seq]
			if len(cr) != len(l) || cr[2] != l[2] || cr[3] != l[3] || cr[4] != l[4] || cr[len(cr)-1] != host {
				t.Errorf("%q: joblog row %d: cluster %q, local %q (want the same Exitval, Signal, Command, and host %s)", cmdline, seq, cr, l, host)
			}
		}
		if len(crows) != len(args) {
			t.Errorf("%q: cluster joblog has %d rows, want %d", cmdline, len(crows), len(args))
		}
	}
	local := parallel(t, "", "--tag", clusterJob, ":::", "1", "2", "3")
	remote := c.parallel("", "--tag", clusterJob, ":::", "1", "2", "3")
	if remote.stdout != sortLines(local.stdout) || remote.code != local.code {
		t.Errorf("--tag without -k: cluster %q, local %q sorted; want input order, the same lines", remote.stdout, local.stdout)
	}
}

// TestClusterJobSemantics: on a worker, --timeout stops the job's whole
// tree with the termseq (a sleeper in the background included), --files
// caps the job, and --retries runs a failing job again, only its last
// attempt printed and logged; a job whose output is more than the
// server's messages can carry fails with a note saying so.
func TestClusterJobSemantics(t *testing.T) {
	c := newTestCluster(t)
	c.worker("-j", "3")
	dir := t.TempDir()
	log, count := filepath.Join(dir, "log"), filepath.Join(dir, "count")
	sleep := "1000." + strconv.Itoa(os.Getpid()) + "7"
	r := c.parallel("", "-k", "--timeout", "1", "--files", "17", "--retries", "3", "--joblog", log, "{}", ":::",
		"sleep "+sleep+" & sleep "+sleep+"; echo survived",
		"ulimit -n",
		"echo x >> "+count+"; n=$(wc -l < "+count+"); echo try $n; test $n -ge 2",
		"head -c 9000000 /dev/zero")
	if r.code != 2 {
		t.Errorf("exit %d, want 2 (the timed-out job, the one whose output is too large); stderr %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "job 4: its output is more than a result can carry through this cluster") {
		t.Errorf("stderr %q; want a note on job 4's output", r.stderr)
	}
	if r.stdout != "17\ntry 2\n" {
		t.Errorf("stdout %q, want the cap and the second try only", r.stdout)
	}
	if !strings.Contains(r.stderr, "This job was killed because it timed out") {
		t.Errorf("stderr %q", r.stderr)
	}
	rows := logRows(t, log)
	if rows[1][2] != "-1" || rows[1][3] != "15" || rows[2][2] != "0" || rows[3][2] != "0" || rows[4][2] != "-1" {
		t.Errorf("joblog %v; want -1 and 15 for the timed-out job, then 0, 0 and -1", rows)
	}
	if rt, _ := strconv.ParseFloat(strings.TrimSpace(rows[1][0]), 64); rt < 0.9 || rt > 10 {
		t.Errorf("the timed-out job ran %.3fs, want about 1 s", rt)
	}
	waitFor(t, "the timed-out job's tree gone", func() bool { return len(pgrep("sleep\x00"+sleep)) == 0 })
}

// TestClusterWorkerKilledMidJob: a worker SIGKILLed while it runs a job
// takes the job's tree with it; the job is delivered again to the other
// worker, runs there to its end, and its output appears once.
func TestClusterWorkerKilledMidJob(t *testing.T) {
	c := newTestCluster(t)
	first := c.worker("-j", "1")
	dir := t.TempDir()
	runs := filepath.Join(dir, "runs")
	sleep := "1000." + strconv.Itoa(os.Getpid()) + "8"
	job := `echo run >> ` + runs + `; if [ $(wc -l < ` + runs + `) -eq 1 ]; then sleep ` + sleep + `; fi; echo done {}`
	sub := c.submit("", job, ":::", "1")
	waitFor(t, "the job running on the first worker", func() bool { return len(pgrep("sleep\x00"+sleep)) == 1 })
	first.kill()
	waitFor(t, "the killed worker's job gone", func() bool { return len(pgrep("sleep\x00"+sleep)) == 0 })
	c.worker("-j", "1")
	r := sub.wait(t)
	if r.code != 0 || r.stdout != "done 1\n" {
		t.Errorf("exit %d, stdout %q, stderr %q; want 0 and the job's output once", r.code, r.stdout, r.stderr)
	}
	if n := strings.Count(readFile(t, runs), "run"); n != 2 {
		t.Errorf("the job started %d times, want 2 (the killed run, the redelivered one)", n)
	}
}

// TestClusterResumeAfterSubmitterKilled: a submitter SIGKILLed mid-run
// (its embedded server with it) and run again with --resume and the same
// --batch collects what the workers finished meanwhile, runs only what
// had not finished, and prints and logs each job that its joblog lacked
// once; the jobs logged before are not run again.
func TestClusterResumeAfterSubmitterKilled(t *testing.T) {
	c := newTestCluster(t)
	c.worker("-j", "2")
	dir := t.TempDir()
	log, runs, ends, gate := filepath.Join(dir, "log"), filepath.Join(dir, "runs"), filepath.Join(dir, "ends"), filepath.Join(dir, "gate")
	// Job 3 waits for the gate; the others end at once, and 4 and 5 end
	// before 3, so their results wait in the batch for it.
	job := `echo {} >> ` + runs + `; if [ {} -eq 3 ]; then while [ ! -e ` + gate + ` ]; do sleep 0.05; done; fi; echo {} >> ` + ends + `; echo out {}`
	args := []string{"-k", "--batch", "resumed", "--joblog", log, job, ":::", "1", "2", "3", "4", "5"}
	first := c.submit("", args...)
	waitFor(t, "jobs 1 and 2 logged, 4 and 5 ended, 3 running", func() bool {
		return strings.Count(readFileOr(log), "\n") == 3 && strings.Count(readFileOr(ends), "\n") == 4
	})
	// A job's end is written before its worker hands its result over; a
	// result not yet stored when the server dies is the documented
	// redelivery (the job runs again). Give the hand-overs of jobs 4 and 5,
	// a few milliseconds each, a second before the kill.
	time.Sleep(time.Second)
	first.kill()
	if err := os.WriteFile(gate, nil, 0o666); err != nil {
		t.Fatal(err)
	}
	r := c.parallel("", append([]string{"--resume"}, args...)...)
	if r.code != 0 || r.stdout != "out 3\nout 4\nout 5\n" {
		t.Errorf("--resume: exit %d, stdout %q, stderr %q; want 0 and jobs 3, 4, 5", r.code, r.stdout, r.stderr)
	}
	ran := map[string]int{}
	for _, f := range strings.Fields(readFile(t, runs)) {
		ran[f]++
	}
	if ran["1"] != 1 || ran["2"] != 1 || ran["4"] != 1 || ran["5"] != 1 || ran["3"] < 1 || ran["3"] > 2 {
		t.Errorf("runs %v: want jobs 1, 2, 4, 5 once, and job 3 once (or twice, redelivered)", ran)
	}
	if rows := logRows(t, log); len(rows) != 5 {
		t.Errorf("joblog has %d jobs, want 5", len(rows))
	}
	if n := strings.Count(readFile(t, log), "\n"); n != 6 {
		t.Errorf("joblog has %d lines, want the header and one row for each job", n)
	}
}

// TestClusterWrongToken: a worker or a submitter with a wrong token is
// refused by the embedded server: one line naming the refusal, exit 255,
// nothing run.
func TestClusterWrongToken(t *testing.T) {
	c := newTestCluster(t)
	dir := t.TempDir()
	ran := filepath.Join(dir, "ran")
	holder := c.submit("", "touch "+ran) // runs the server until its stdin closes
	url := strings.Replace(c.url(), "nats://", "nats://not-the-token@", 1)
	for _, args := range [][]string{
		{"worker", "--cluster", url},
		{"parallel", "--cluster", url, "touch " + ran, ":::", "1"},
	} {
		r := runBin(t, c.env, "", buildChildproc(t), args...)
		if r.code != 255 || !strings.Contains(r.stderr, "refused this client: wrong token or credentials") || strings.Contains(r.stderr, "not-the-token") || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("%q: exit %d, stderr %q; want 255 and one line saying the server refused it, without the token", args[0], r.code, r.stderr)
		}
	}
	token := filepath.Join(c.dir, "token")
	if err := os.WriteFile(token, []byte("not-the-token"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runBin(t, c.env, "", buildChildproc(t), "worker")
	if r.code != 255 || !strings.Contains(r.stderr, "refused this client: wrong token") {
		t.Errorf("worker with a wrong token file: exit %d, stderr %q; want 255, refused", r.code, r.stderr)
	}
	if res := holder.wait(t); res.code != 0 {
		t.Errorf("the submitter holding the server: exit %d, %s", res.code, res.stderr)
	}
	if _, err := os.Stat(ran); err == nil {
		t.Error("a job ran")
	}
}

// TestClusterFlagSpellings: --cluster takes a URL or local as the next
// word, or no value at all, and the flags after it are read as flags.
func TestClusterFlagSpellings(t *testing.T) {
	c := newTestCluster(t)
	for _, spelling := range [][]string{{"--cluster"}, {"--cluster", "local"}, {"--cluster=local"}, {"--cluster", "nats://127.0.0.1:1"}} {
		args := append(append([]string{"parallel"}, spelling...), "-k", "--dry-run", "echo", ":::", "a")
		if r := runBin(t, c.env, "", buildChildproc(t), args...); r.code != 0 || r.stdout != "echo a\n" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want the command echo a", args, r.code, r.stdout, r.stderr)
		}
	}
}

// TestClusterBadFlags: flags that do not go with --cluster, or with
// childproc worker, a bad batch name and a server that cannot be
// reached are one line on stderr and exit 255.
func TestClusterBadFlags(t *testing.T) {
	c := newTestCluster(t)
	for _, args := range [][]string{
		{"parallel", "--cluster", "--line-buffer", "true", ":::", "1"},
		{"parallel", "--cluster", "-u", "true", ":::", "1"},
		{"parallel", "--cluster", "--resume", "--joblog", filepath.Join(t.TempDir(), "log"), "true", ":::", "1"},
		{"parallel", "--batch", "b", "true", ":::", "1"},
		{"parallel", "--cluster", "--tls-cert", "x", "true", ":::", "1"},
		{"parallel", "--cluster", "--creds", "x", "true", ":::", "1"},
		{"parallel", "--cluster", "--batch", "bad.name", "true", ":::", "1"},
		{"worker", "extra"},
		{"worker", "-j", "x"},
		{"worker", "-j", "0"},
		{"worker", "--cluster", "nats://127.0.0.1:1"},
	} {
		r := runBin(t, c.env, "", buildChildproc(t), args...)
		if r.code != 255 || strings.Count(r.stderr, "\n") != 1 || !strings.HasPrefix(r.stderr, "childproc "+args[0]+": ") {
			t.Errorf("%q: exit %d, stderr %q; want 255 and one line", args, r.code, r.stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(c.dir, "url")); err == nil {
		t.Error("the embedded server is left running")
	}
}

// TestClusterSignalStopsSubmitting: SIGINT stops a submitter with exit
// 255 and a message, while 3 workers run 6 jobs and 30 more wait in the
// queue: the running jobs are stopped with their trees, the joblog
// holds exactly the jobs that had finished, and no job still queued at
// the signal starts, neither while the stopped jobs free the workers'
// slots nor once the next submitter has started the embedded server
// again from its store. The scenario runs 3 times, to catch a worker
// that takes a queued job between the stop of the running ones and the
// removal of the queued ones.
func TestClusterSignalStopsSubmitting(t *testing.T) {
	c := newTestCluster(t)
	for range 3 {
		c.worker("-j", "2")
	}
	dir := t.TempDir()
	for round := range 3 {
		c.stopMidRun(t, dir, round, syscall.SIGINT)
	}
	// The next run gives the workers 2 s of server with free slots.
	if r := c.parallel("", "sleep 2; echo {}", ":::", "next"); r.stdout != "next\n" {
		t.Errorf("the next run: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	for round := range 3 {
		if n := len(strings.Fields(readFile(t, startsFile(dir, round)))); n != 10 {
			t.Errorf("round %d: %d jobs started in all, want the 10 started before the signal", round, n)
		}
	}
}

// stopJobs is the number of jobs of stopMidRun, and quickJobs the number
// of those (the first) that end at once.
const stopJobs, quickJobs = 40, 4

// startsFile is where the jobs of stopMidRun's round record their start.
func startsFile(dir string, round int) string {
	return filepath.Join(dir, "starts"+strconv.Itoa(round))
}

// stopMidRun runs stopJobs jobs on the cluster's 6 slots: the first
// quickJobs end at once, the others run until stopped, each with a
// process in the background; once 6 run and the rest wait in the queue
// it sends sig to the submitter, and checks what the stop must do. The
// jobs record their start in startsFile(dir, round).
func (c *testCluster) stopMidRun(t *testing.T, dir string, round int, sig syscall.Signal) {
	t.Helper()
	starts, log := startsFile(dir, round), filepath.Join(t.TempDir(), "log")
	mark := "1000." + strconv.Itoa(os.Getpid()) + strconv.Itoa(round) + "9"
	job := `echo {} >> ` + starts + `; if [ {} -gt ` + strconv.Itoa(quickJobs) + ` ]; then sleep ` + mark + ` & sleep ` + mark + `; fi`
	args := []string{"--joblog", log, job, ":::"}
	for i := 1; i <= stopJobs; i++ {
		args = append(args, strconv.Itoa(i))
	}
	sub := c.submit("", args...)
	running := 6
	waitFor(t, "the quick jobs logged and 6 jobs running", func() bool {
		return strings.Count(readFileOr(log), "\n") == 1+quickJobs && len(pgrep("sleep\x00"+mark)) == 2*running
	})
	time.Sleep(300 * time.Millisecond) // nothing else starts: every slot is taken
	before := strings.Fields(readFile(t, starts))
	if len(before) != quickJobs+running {
		t.Fatalf("round %d: jobs %q started before the signal, want %d", round, before, quickJobs+running)
	}
	sub.cmd.Process.Signal(sig)
	r := sub.wait(t)
	if r.code != 255 || !strings.Contains(r.stderr, sig.String()+": stopping the jobs") {
		t.Errorf("round %d: exit %d, stderr %q; want 255 and the signal named", round, r.code, r.stderr)
	}
	time.Sleep(500 * time.Millisecond) // for a job that a worker took to start
	if after := strings.Fields(readFile(t, starts)); !slices.Equal(after, before) {
		t.Errorf("round %d: jobs %q started, want only those started before the signal, %q", round, after, before)
	}
	waitFor(t, "the stopped jobs' trees gone", func() bool { return len(pgrep("sleep\x00"+mark)) == 0 })
	rows := logRows(t, log)
	for seq := 1; seq <= quickJobs; seq++ {
		if row := rows[seq]; len(row) == 0 || row[2] != "0" {
			t.Errorf("round %d: joblog row %d %q, want Exitval 0", round, seq, row)
		}
	}
	if len(rows) != quickJobs {
		t.Errorf("round %d: joblog %v, want exactly the %d jobs that finished", round, rows, quickJobs)
	}
}

// TestClusterHaltNowStartsNoQueuedJob: --halt now,fail=1 stops the
// jobs running on the workers with their trees once job 1 fails, and
// starts none of those still queued, except the one that the failed
// job's slot took before its result came; the joblog holds job 1 only,
// and the exit status is job 1's, as GNU's. 3 rounds.
func TestClusterHaltNowStartsNoQueuedJob(t *testing.T) {
	c := newTestCluster(t)
	for range 3 {
		c.worker("-j", "2")
	}
	for round := range 3 {
		dir := t.TempDir()
		starts, gate, log := filepath.Join(dir, "starts"), filepath.Join(dir, "gate"), filepath.Join(dir, "log")
		mark := "1000." + strconv.Itoa(os.Getpid()) + strconv.Itoa(round) + "6"
		job := `echo {} >> ` + starts + `; if [ {} -eq 1 ]; then while [ ! -e ` + gate + ` ]; do sleep 0.05; done; exit 3; fi; sleep ` + mark + ` & sleep ` + mark
		args := []string{"--halt", "now,fail=1", "--joblog", log, job, ":::"}
		for i := 1; i <= stopJobs; i++ {
			args = append(args, strconv.Itoa(i))
		}
		sub := c.submit("", args...)
		waitFor(t, "6 jobs running", func() bool { return len(pgrep("sleep\x00"+mark)) == 2*5 })
		time.Sleep(300 * time.Millisecond) // nothing else starts: every slot is taken
		before := strings.Fields(readFile(t, starts))
		if len(before) != 6 {
			t.Fatalf("round %d: jobs %q started before job 1 failed, want 6", round, before)
		}
		if err := os.WriteFile(gate, nil, 0o666); err != nil {
			t.Fatal(err)
		}
		r := sub.wait(t)
		if r.code != 3 || !strings.Contains(r.stderr, "This job failed") {
			t.Errorf("round %d: exit %d, stderr %q; want 3, job 1's status, and the halt told", round, r.code, r.stderr)
		}
		time.Sleep(500 * time.Millisecond) // for a job that a worker took to start
		if after := strings.Fields(readFile(t, starts)); len(after) > len(before)+1 {
			t.Errorf("round %d: jobs %q started, want those started before job 1 failed, %q, and at most one more in its slot", round, after, before)
		}
		waitFor(t, "the stopped jobs' trees gone", func() bool { return len(pgrep("sleep\x00"+mark)) == 0 })
		if rows := logRows(t, log); len(rows) != 1 || rows[1][2] != "3" {
			t.Errorf("round %d: joblog %v, want job 1 only, Exitval 3", round, rows)
		}
	}
}

// TestClusterPrintsAsJobsEnd: jobs read from a stdin that is still open
// run, and their output is printed, while the input goes on, as in a
// local run.
func TestClusterPrintsAsJobsEnd(t *testing.T) {
	c := newTestCluster(t)
	c.worker("-j", "2")
	sub := c.submit("1\n2\n", "echo out {}")
	waitFor(t, "the output of jobs 1 and 2 while stdin is open", func() bool {
		return sub.stdout.String() == "out 1\nout 2\n"
	})
	io.WriteString(sub.stdin, "3\n")
	if r := sub.wait(t); r.code != 0 || r.stdout != "out 1\nout 2\nout 3\n" {
		t.Errorf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}
