//go:build linux

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestParallelResumeCutRow: a joblog whose last row was cut short as it
// was written (childproc killed mid-write) resumes: that job counts as not
// finished and runs again, the others do not, and the joblog is whole
// afterwards. A header cut short is an empty joblog.
func TestParallelResumeCutRow(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "log")
	args := []string{"--joblog", log, "-j1", "-k", "echo", ":::", "1", "2", "3"} // -j1: job 3 has the last row
	if r := parallel(t, "", args...); r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	b := readFile(t, log)
	last := strings.LastIndex(strings.TrimSuffix(b, "\n"), "\n") + 1 // job 3's row
	for _, cut := range []int{last + 1, last + 12, len(b) - 1} {
		os.WriteFile(log, []byte(b[:cut]), 0o666)
		r := parallel(t, "", append([]string{"--resume"}, args...)...)
		if r.code != 0 || r.stdout != "3\n" {
			t.Errorf("row cut after %d bytes: --resume ran %q (exit %d, stderr %q), want job 3 only", cut-last, r.stdout, r.code, r.stderr)
		}
		if rows := logRows(t, log); len(rows) != 3 {
			t.Errorf("row cut after %d bytes: joblog has %d rows after --resume, want 3", cut-last, len(rows))
		}
	}
	os.WriteFile(log, []byte(joblogHeader[:5]), 0o666)
	r := parallel(t, "", append([]string{"--resume-failed"}, args...)...)
	if r.code != 0 || r.stdout != "1\n2\n3\n" {
		t.Errorf("header cut short: --resume-failed ran %q (exit %d, stderr %q), want every job", r.stdout, r.code, r.stderr)
	}
	if rows := logRows(t, log); len(rows) != 3 {
		t.Errorf("header cut short: joblog has %d rows after --resume-failed, want 3", len(rows))
	}
}
