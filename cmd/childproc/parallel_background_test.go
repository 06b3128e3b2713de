//go:build linux

package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestParallelBackgroundHoldsOutput: a job that leaves a background
// process holding its stdout and stderr ends when its own process exits,
// in every output mode, and succeeds; the background process does not
// outlive childproc.
func TestParallelBackgroundHoldsOutput(t *testing.T) {
	sleep := "1000." + strconv.Itoa(os.Getpid()) + "3"
	sleepers := "sleep\x00" + sleep
	for _, mode := range [][]string{{}, {"-k"}, {"--line-buffer"}, {"--tag"}, {"--json"}} {
		log := filepath.Join(t.TempDir(), "log")
		args := append(mode, "--joblog", log, "sleep "+sleep+" & echo done {}", ":::", "1", "2")
		start := time.Now()
		r := parallel(t, "", args...)
		took := time.Since(start)
		if r.code != 0 || !strings.Contains(r.stdout, "done 1") || !strings.Contains(r.stdout, "done 2") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want 0 and both jobs' output", mode, r.code, r.stdout, r.stderr)
		}
		if took > 20*time.Second {
			t.Errorf("%q: took %v, want the jobs to end with their processes", mode, took)
		}
		for seq, row := range logRows(t, log) {
			if row[2] != "0" || row[3] != "0" {
				t.Errorf("%q: job %d: joblog Exitval %s, Signal %s; want a success", mode, seq, row[2], row[3])
			}
		}
		waitFor(t, strings.Join(mode, " ")+": the background processes gone", func() bool { return len(pgrep(sleepers)) == 0 })
	}
}
