//go:build linux

package main

import (
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestParallelOutOfFiles: with too few file descriptors for -j 100, no
// job fails: childproc runs fewer at once, as GNU parallel does, and
// says so on stderr.
func TestParallelOutOfFiles(t *testing.T) {
	script := `ulimit -n 48 && exec "$0" parallel -j 100 -k 'sleep 0.2; echo {}' ::: $(seq 150)`
	r := runBin(t, nil, "", "sh", "-c", script, buildChildproc(t))
	var want []string
	for i := 1; i <= 150; i++ {
		want = append(want, strconv.Itoa(i))
	}
	if got := strings.Fields(r.stdout); r.code != 0 || !slices.Equal(got, want) {
		t.Errorf("exit %d, %d lines of output (stderr %q); want 0 and every job's", r.code, len(got), r.stderr)
	}
	if !strings.Contains(r.stderr, "Warning: Only enough file handles to run ") || strings.Contains(r.stderr, ": job ") {
		t.Errorf("stderr %q, want the warning and no failed job", r.stderr)
	}
}
