//go:build linux

package main

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestParallelBigOutputToFile: once a job's stdout has spilled, the jobs
// after it write their stdout to a temporary file themselves (their fd 1
// is that file, not a pipe); the output stays whole per job, in order
// under -k, tagged under --tag, and the joblog's Receive counts it.
func TestParallelBigOutputToFile(t *testing.T) {
	const size = 3 << 20
	// Each job prints size bytes of its own letter, then on stderr what
	// its stdout is.
	job := bigJob(size) + "; " + printStdout
	letters := strings.Fields("a b c d e f g h")
	for _, mode := range [][]string{{"-k"}, {"-k", "--tag"}} {
		log := filepath.Join(t.TempDir(), "log")
		args := append(append([]string{"-j2", "--joblog", log}, mode...), append([]string{"sleep 0.$(({#}%3)); " + job, ":::"}, letters...)...)
		r := parallel(t, "", args...)
		want := bigOutput(letters, size, len(mode) > 1)
		if r.code != 0 || r.stdout != want {
			t.Errorf("%q: exit %d, %d bytes of stdout, want %d bytes, each job's whole and in order (stderr %q)", mode, r.code, len(r.stdout), len(want), r.stderr)
		}
		if !pipesThenFiles(r.stderr) {
			t.Errorf("%q: the jobs' stdout were %q; want pipes first, then files", mode, r.stderr)
		}
		for seq, row := range logRows(t, log) {
			if row[1] != strconv.Itoa(size+1) {
				t.Errorf("%q: job %d: Receive %s, want %d", mode, seq, row[1], size+1)
			}
		}
	}
}

// pipesThenFiles reports whether the jobs' stderr, each job's line naming
// its stdout, shows both pipes and the temporary files of big outputs.
func pipesThenFiles(stderr string) bool {
	return strings.Contains(stderr, "childproc-parallel-") && strings.Contains(stderr, "pipe:")
}
