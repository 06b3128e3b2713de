//go:build linux

package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestParallelSpillRefusedJSON: under --json, a job whose output is
// past the thresholds while --tmpdir refuses a file has its whole
// stdout and stderr in its JSON object; childproc warns once, on its
// own line of stderr, outside every object.
func TestParallelSpillRefusedJSON(t *testing.T) {
	const size = 3 << 20
	dir := filepath.Join(t.TempDir(), "missing")
	job := bigJob(size) + "; { " + bigJob(size) + "; } >&2"
	r := parallel(t, "", "-j2", "--json", "--tmpdir", dir, job, ":::", "a", "b", "c")
	if r.code != 0 {
		t.Fatalf("exit %d, stderr %.300q", r.code, r.stderr)
	}
	if strings.Count(r.stderr, spillWarning) != 1 || !strings.HasPrefix(r.stderr, spillWarning) || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("stderr %.300q, want the warning once, alone", r.stderr)
	}
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines of stdout, want one object per job", len(lines))
	}
	for _, line := range lines {
		var o struct {
			Args   []string `json:"args"`
			Stdout string   `json:"stdout"`
			Stderr string   `json:"stderr"`
		}
		if err := json.Unmarshal([]byte(line), &o); err != nil {
			t.Fatalf("a line of stdout is no JSON object: %v (%.200q)", err, line)
		}
		want := strings.Repeat(o.Args[0], size) + "\n"
		if o.Stdout != want || o.Stderr != want {
			t.Errorf("job %v: %d bytes of stdout and %d of stderr, want %d of each", o.Args, len(o.Stdout), len(o.Stderr), len(want))
		}
	}
}

// TestParallelSpillDirComesLater: a --tmpdir that does not exist when
// the first job's output spills and is made by a later job: every job's
// output prints whole and in order, childproc warns once, and the
// spills once the directory exists leave no file behind in it.
func TestParallelSpillDirComesLater(t *testing.T) {
	const size = 3 << 20
	dir := filepath.Join(t.TempDir(), "later")
	job := `if [ {} = b ]; then mkdir ` + dir + `; fi; ` + bigJob(size)
	letters := []string{"a", "b", "c", "d"}
	for _, mode := range [][]string{{"-k"}, {"-k", "--tag"}} {
		os.RemoveAll(dir)
		log := filepath.Join(t.TempDir(), "log")
		args := append([]string{"-j1", "--tmpdir", dir, "--joblog", log}, mode...)
		r := parallel(t, "", append(args, append([]string{job, ":::"}, letters...)...)...)
		checkWholeOutput(t, strings.Join(args, " "), r, bigOutput(letters, size, len(mode) > 1), dir, "no such file or directory", log, size)
		if left, _ := os.ReadDir(dir); len(left) > 0 {
			t.Errorf("%q: %d files left in %s", mode, len(left), dir)
		}
	}
}

// TestParallelSpillKeepOrderMemoryAfterRefusal: under -k, with the first
// job holding back the output of 999 others (200 KiB each, 195 MiB in
// all), a --tmpdir that refuses the spills until job 400 makes it: the
// jobs after that spill to files again, so that childproc's peak
// memory is about that of a run whose directory took every spill, far
// below that of a run whose directory never exists; every job's output
// prints whole and in order, and childproc warns once.
func TestParallelSpillKeepOrderMemoryAfterRefusal(t *testing.T) {
	const jobs = 1000
	// The race detector's shadow memory would hide what the buffers
	// hold: the binary measured is built without it. Its peak memory is
	// told by time(1): the rusage of a child that Go starts counts this
	// process's memory, which it shared until the exec.
	timer, err := exec.LookPath("/usr/bin/time")
	if err != nil {
		t.Skip("no /usr/bin/time")
	}
	bin := filepath.Join(t.TempDir(), "childproc")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	run := func(mkdirAt int) (int64, string) {
		dir := filepath.Join(t.TempDir(), "tmp")
		if mkdirAt == 0 {
			os.Mkdir(dir, 0o700)
		}
		marks := t.TempDir()
		job := `if [ {#} = 1 ]; then while [ ! -e ` + marks + `/last ]; do sleep 0.05; done; fi; ` +
			`if [ {#} = ` + strconv.Itoa(mkdirAt) + ` ]; then mkdir ` + dir + `; fi; ` +
			`if [ {#} = ` + strconv.Itoa(jobs) + ` ]; then touch ` + marks + `/last; fi; ` +
			`head -c 204800 /dev/zero | tr '\0' x; echo {#}`
		cmd := exec.Command(timer, append([]string{"-f", "%M", bin, "parallel", "-j8", "-k", "--tmpdir", dir, job, ":::"}, strings.Fields(strings.Repeat("a ", jobs))...)...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			t.Fatalf("%v: %.500q", err, errb.String())
		}
		lines := strings.SplitAfter(out.String(), "\n")
		if len(lines) != jobs+1 {
			t.Fatalf("mkdir at %d: %d lines, want %d", mkdirAt, len(lines)-1, jobs)
		}
		for i, line := range lines[:jobs] {
			if want := strings.Repeat("x", 204800) + strconv.Itoa(i+1) + "\n"; line != want {
				t.Fatalf("mkdir at %d: job %d printed %d bytes, want %d, in order", mkdirAt, i+1, len(line), len(want))
			}
		}
		if left, _ := os.ReadDir(dir); len(left) > 0 {
			t.Errorf("mkdir at %d: %d files left in %s", mkdirAt, len(left), dir)
		}
		all := strings.TrimSuffix(errb.String(), "\n")
		i := strings.LastIndex(all, "\n")
		stderr, peak := all[:i+1], all[i+1:] // time(1)'s line is the last
		kib, err := strconv.ParseInt(peak, 10, 64)
		if err != nil {
			t.Fatalf("time(1) said %q", peak)
		}
		return kib << 10, stderr
	}
	mib := func(n int64) float64 { return float64(n) / (1 << 20) }
	always, _ := run(0)
	never, _ := run(-1)
	later, stderr := run(400)
	t.Logf("peak RSS: directory always there %.0f MiB, never %.0f MiB, made by job 400 %.0f MiB", mib(always), mib(never), mib(later))
	if strings.Count(stderr, spillWarning) != 1 {
		t.Errorf("mkdir at 400: stderr %.500q, want the warning once", stderr)
	}
	if later > always+(never-always)/2 {
		t.Errorf("peak RSS %.0f MiB with the directory made by job 400, want about that of a directory always there (%.0f MiB), not of one never there (%.0f MiB)", mib(later), mib(always), mib(never))
	}
}
