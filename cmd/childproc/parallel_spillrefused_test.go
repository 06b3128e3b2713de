//go:build linux

package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// spillWarning starts the warning that the temporary directory refused
// a spill.
const spillWarning = "childproc parallel: Warning: output is held in memory: the temporary directory "

// printStdout is the shell command that says on stderr what the job's
// stdout is: readlink looks at a copy of it (fd 3), since a shell that
// runs its last command in its own process (dash; bash does not) has
// moved fd 1 to stderr by the time readlink runs.
const printStdout = `readlink /proc/self/fd/3 3>&1 >&2`

// bigJob prints size bytes of the job's letter and a newline.
func bigJob(size int) string {
	return `head -c ` + strconv.Itoa(size) + ` /dev/zero | tr '\0' {}; echo`
}

// bigOutput is what jobs of bigJob print under -k, tagged when tag is
// set.
func bigOutput(letters []string, size int, tag bool) string {
	var want strings.Builder
	for _, l := range letters {
		if tag {
			want.WriteString(l + "\t")
		}
		want.WriteString(strings.Repeat(l, size) + "\n")
	}
	return want.String()
}

// checkWholeOutput fails the test unless the run printed each job's whole
// output in order, exited 0, warned once of the refused spill naming dir
// and why, and the joblog counts every byte of each job's stdout.
func checkWholeOutput(t *testing.T, what string, r result, want, dir, why, log string, size int) {
	t.Helper()
	if r.code != 0 || r.stdout != want {
		t.Errorf("%s: exit %d, %d bytes of stdout, want exit 0 and %d bytes, each job's whole and in order (stderr %q)", what, r.code, len(r.stdout), len(want), r.stderr)
	}
	if n := strings.Count(r.stderr, spillWarning); n != 1 || !strings.Contains(r.stderr, spillWarning+dir+" refused it: ") || !strings.Contains(r.stderr, why) {
		t.Errorf("%s: stderr %q, want the warning once, naming %s and %q", what, r.stderr, dir, why)
	}
	for seq, row := range logRows(t, log) {
		if row[1] != strconv.Itoa(size+1) {
			t.Errorf("%s: job %d: Receive %s, want %d", what, seq, row[1], size+1)
		}
	}
}

// TestParallelSpillRefusedKeepsOutput: when --tmpdir cannot hold a
// temporary file (a path that does not exist, one under a regular file, a
// directory that refuses even root), grouped output past the thresholds
// stays in memory: every job's output prints whole and in order, the
// joblog counts it, and childproc warns once.
func TestParallelSpillRefusedKeepsOutput(t *testing.T) {
	const size = 3 << 20
	dirs := []struct{ dir, why string }{
		{filepath.Join(t.TempDir(), "missing"), "no such file or directory"},
		{"/etc/passwd/x", "not a directory"},
		{"/sys", "permission denied"},
	}
	letters := strings.Fields("a b c d e")
	for _, d := range dirs {
		if f, err := os.CreateTemp(d.dir, "probe-*"); err == nil {
			f.Close()
			os.Remove(f.Name())
			t.Logf("%s takes a file here: not tried", d.dir)
			continue
		}
		for _, mode := range [][]string{{"-k"}, {"-k", "--tag"}} {
			log := filepath.Join(t.TempDir(), "log")
			args := append([]string{"-j2", "--tmpdir", d.dir, "--joblog", log}, mode...)
			r := parallel(t, "", append(args, append([]string{bigJob(size), ":::"}, letters...)...)...)
			checkWholeOutput(t, strings.Join(args, " "), r, bigOutput(letters, size, len(mode) > 1), d.dir, d.why, log, size)
		}
	}
}

// TestParallelSpillFileFailsMidJob: when a temporary file in use fails
// (the file size limit of childproc, EFBIG; a full tmpfs, ENOSPC), what
// it had and the rest of the job's output, held in memory, print whole
// and in order; no job is given a file as its stdout from then on; no
// temporary file is left behind.
func TestParallelSpillFileFailsMidJob(t *testing.T) {
	const size = 3 << 20
	bin := buildChildproc(t)
	letters := strings.Fields("a b c d")
	job := bigJob(size) + "; " + printStdout
	run := func(t *testing.T, dir, why string, prefix ...string) {
		for _, mode := range [][]string{{"-k"}, {"-k", "--tag"}} {
			log := filepath.Join(t.TempDir(), "log")
			args := append([]string{"parallel", "-j2", "--tmpdir", dir, "--joblog", log}, mode...)
			args = append(args, append([]string{job, ":::"}, letters...)...)
			r := runBin(t, nil, "", prefix[0], append(append(prefix[1:], bin), args...)...)
			checkWholeOutput(t, strings.Join(args[:len(args)-len(letters)-2], " "), r, bigOutput(letters, size, len(mode) > 1), dir, why, log, size)
			for _, line := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
				if !strings.HasPrefix(line, spillWarning) && !strings.Contains(line, "pipe:") {
					t.Errorf("%q: a job's stdout was %q, want a pipe: no job writes a file itself once the directory refused one", mode, line)
				}
			}
			if left, _ := os.ReadDir(dir); len(left) > 0 {
				t.Errorf("%q: %d files left in %s", mode, len(left), dir)
			}
		}
	}
	t.Run("EFBIG", func(t *testing.T) {
		prlimit, err := exec.LookPath("prlimit")
		if err != nil {
			t.Skip("no prlimit")
		}
		run(t, t.TempDir(), "file too large", prlimit, "--fsize=2097152")
	})
	t.Run("ENOSPC", func(t *testing.T) {
		dir := smallTmpfs(t, "2m")
		run(t, dir, "no space left on device", "env")
	})
}

// smallTmpfs mounts a tmpfs of size at a new directory for the test, or
// skips the test where this process may not mount.
func smallTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size="+size); err != nil {
		t.Skipf("cannot mount a tmpfs: %v", err)
	}
	t.Cleanup(func() { unix.Unmount(dir, 0) })
	return dir
}

// TestParallelSpillOutOfFiles: when childproc has no file descriptor
// left to make a temporary file (RLIMIT_NOFILE lowered to its three
// standard descriptors while its jobs run, so that the spawns were not
// refused), the jobs' output stays in memory and prints whole.
func TestParallelSpillOutOfFiles(t *testing.T) {
	const size = 3 << 20
	marks := t.TempDir()
	log := filepath.Join(t.TempDir(), "log")
	job := "touch " + marks + "/started.{#}; while [ ! -e " + marks + "/go ]; do sleep 0.02; done; " + bigJob(size)
	letters := []string{"a", "b"}
	cmd := exec.Command(buildChildproc(t), append([]string{"parallel", "-j2", "-k", "--tag", "--joblog", log, job, ":::"}, letters...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		started, _ := filepath.Glob(filepath.Join(marks, "started.*"))
		if len(started) == len(letters) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the jobs did not start within 30 s: %q", errb.String())
		}
	}
	var lim unix.Rlimit
	if err := unix.Prlimit(cmd.Process.Pid, unix.RLIMIT_NOFILE, nil, &lim); err != nil {
		t.Fatal(err)
	}
	lim.Cur = 3
	if err := unix.Prlimit(cmd.Process.Pid, unix.RLIMIT_NOFILE, &lim, nil); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(marks, "go"), nil, 0o666); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatalf("childproc parallel did not end within a minute: %q", errb.String())
	}
	r := result{out.String(), errb.String(), cmd.ProcessState.ExitCode()}
	checkWholeOutput(t, "RLIMIT_NOFILE 3", r, bigOutput(letters, size, true), os.TempDir(), "too many open files", log, size)
}

// TestParallelDirectFileOnFullDisk: a job that writes its stdout to a
// temporary file itself (after an earlier job spilled) meets a full disk
// as `cmd > file` would: the job sees ENOSPC (its tr says so on its
// stderr; the job's status is its last command's), childproc prints
// what the file holds and says that the job's output may be incomplete,
// and the jobs after it go through childproc again, which keeps their
// whole output.
func TestParallelDirectFileOnFullDisk(t *testing.T) {
	const size = 3 << 20
	dir := smallTmpfs(t, "8m")
	filler := filepath.Join(dir, "filler")
	job := `if [ {} = b ]; then head -c 8388608 /dev/zero > ` + filler + ` 2>/dev/null; fi; ` +
		`if [ {} = c ]; then rm ` + filler + `; fi; ` + bigJob(size) + `; ` + printStdout
	r := parallel(t, "", "-j1", "-k", "--tmpdir", dir, job, ":::", "a", "b", "c")
	direct := strings.Contains(r.stderr, "\n"+dir+"/childproc-parallel-") || strings.HasPrefix(r.stderr, dir+"/childproc-parallel-")
	if !direct {
		// Job b's stdout was a pipe: the disk refused childproc itself.
		checkWholeOutput(t, "b through a pipe", r, bigOutput([]string{"a", "b", "c"}, size, false), dir, "no space left on device", filepath.Join(t.TempDir(), "nolog"), size)
		t.Skipf("job b was not given a file as its stdout (stderr %q)", r.stderr)
	}
	a, c := strings.Repeat("a", size)+"\n", strings.Repeat("c", size)+"\n"
	if r.code != 0 || !strings.HasPrefix(r.stdout, a) || !strings.HasSuffix(r.stdout, c) || len(r.stdout) >= 3*(size+1) {
		t.Errorf("exit %d, %d bytes of stdout; want exit 0, a's and c's output whole and b's cut short (stderr %q)", r.code, len(r.stdout), r.stderr)
	}
	if !strings.Contains(r.stderr, "childproc parallel: job 2: Warning: its stdout, which it wrote to a temporary file itself, may be incomplete: write "+dir+"/childproc-parallel-") ||
		!strings.Contains(r.stderr, "no space left on device") || strings.Count(r.stderr, spillWarning) != 1 {
		t.Errorf("stderr %q, want job 2's warning and the refusal's once", r.stderr)
	}
	if lines := strings.Split(strings.TrimSpace(r.stderr), "\n"); !strings.Contains(lines[len(lines)-1], "pipe:") {
		t.Errorf("job c's stdout was %q, want a pipe", lines[len(lines)-1])
	}
	if left, _ := os.ReadDir(dir); len(left) > 0 {
		t.Errorf("%d files left in %s", len(left), dir)
	}
}
