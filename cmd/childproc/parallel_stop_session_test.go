//go:build linux

package main

import (
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// TestParallelStopReachesOtherSessions: a stop of a job (SIGTERM to
// childproc, --timeout, --halt now) reaches the descendants that left
// its session with setsid, even those that ignore SIGTERM, within the
// termseq: none is left once childproc has returned.
func TestParallelStopReachesOtherSessions(t *testing.T) {
	sleep := "1000." + strconv.Itoa(os.Getpid()) + "7"
	sleepers := "sleep\x00" + sleep
	// One escaper ignores SIGTERM and holds none of the job's output, so
	// the job's shell can end before it; the other holds the output.
	escaper := "setsid sh -c 'trap \"\" TERM; exec sleep " + sleep + "' >/dev/null 2>&1 & setsid sleep " + sleep + " & sleep " + sleep
	for _, c := range []struct {
		stop string
		args []string
	}{
		{"--timeout", []string{"--timeout", "1", escaper, ":::", "1", "2"}},
		{"--halt now", []string{"--halt", "now,fail=1", "{}", ":::", escaper, "sleep 1; exit 3"}},
		{"SIGTERM", []string{escaper, ":::", "1", "2"}},
	} {
		signalled := c.stop == "SIGTERM"
		cmd := exec.Command(buildChildproc(t), append([]string{"parallel", "-j3"}, c.args...)...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if signalled {
			waitFor(t, "the jobs to start", func() bool { return len(pgrep(sleepers)) == 6 })
			cmd.Process.Signal(syscall.SIGTERM)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("%s: childproc did not end", c.stop)
		}
		if p := pgrep(sleepers); len(p) > 0 {
			t.Errorf("%s: left running once childproc had returned: %v", c.stop, p)
		}
		waitFor(t, "the sleepers gone", func() bool { return len(pgrep(sleepers)) == 0 })
	}
}
