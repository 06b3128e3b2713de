//go:build linux

package main

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestParallelGroupNeverInterleaves: 100 jobs writing 1 MiB each in
// small pieces, 8 at a time: each job's output comes out whole, stdout
// then stderr, and nothing is lost.
func TestParallelGroupNeverInterleaves(t *testing.T) {
	args := []string{"-j8", `yes {} | head -c 1048576; echo; echo err{} >&2`, ":::"}
	for i := 0; i < 100; i++ {
		args = append(args, strconv.Itoa(i))
	}
	r := parallel(t, "", args...)
	if r.code != 0 {
		t.Fatalf("exit %d: %.200s", r.code, r.stderr)
	}
	seen := map[string]bool{}
	var cur string
	sc := bufio.NewScanner(strings.NewReader(r.stdout))
	for sc.Scan() {
		line := sc.Text()
		if line == cur || (cur != "" && strings.HasPrefix(cur, line)) {
			continue // the job's last, cut line
		}
		if seen[line] {
			t.Fatalf("the output of job %q comes in more than one piece", line)
		}
		seen[line], cur = true, line
	}
	if len(seen) != 100 || len(r.stdout) != 100*(1048576+1) {
		t.Errorf("%d jobs' output, %d bytes; want 100 and %d", len(seen), len(r.stdout), 100*(1048576+1))
	}
	if n := len(strings.Split(strings.TrimSpace(r.stderr), "\n")); n != 100 {
		t.Errorf("%d stderr lines, want 100", n)
	}
}

// TestParallelLineBuffer: --line-buffer passes whole lines as they come,
// tagged, without waiting for the job to end.
func TestParallelLineBuffer(t *testing.T) {
	cmd := exec.Command(buildChildproc(t), "parallel", "--line-buffer", "--tag", "echo first; sleep 30", ":::", "a")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}()
	line := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(out).ReadString('\n')
		line <- l
	}()
	select {
	case l := <-line:
		if l != "a\tfirst\n" {
			t.Errorf("got %q", l)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the line did not come while the job ran")
	}
	// Many jobs writing lines at once: every line whole.
	args := []string{"--line-buffer", "-j8", `for i in $(seq 200); do echo {}-$i-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; done`, ":::"}
	for i := 0; i < 16; i++ {
		args = append(args, strconv.Itoa(i))
	}
	r := parallel(t, "", args...)
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	for _, l := range lines {
		if !strings.HasSuffix(l, strings.Repeat("x", 48)) || strings.Count(l, "-") != 2 {
			t.Fatalf("line %q is not whole", l)
		}
	}
	if len(lines) != 16*200 {
		t.Errorf("%d lines, want %d", len(lines), 16*200)
	}
}

// TestParallelJobs: how many jobs run at once for each -j form, seen in
// the slots ({%}) the jobs got.
func TestParallelJobs(t *testing.T) {
	ncpu := runtime.NumCPU()
	for _, c := range []struct {
		j    string
		want int
	}{
		{"1", 1}, {"3", 3}, {"+1", ncpu + 1}, {"-1", max(ncpu-1, 1)}, {"50%", max(ncpu/2, 1)}, {"200%", 2 * ncpu}, {"0", 12},
	} {
		args := []string{"-j", c.j, "sleep 0.3; echo {%}", ":::"}
		for i := 0; i < 12; i++ {
			args = append(args, strconv.Itoa(i))
		}
		r := parallel(t, "", args...)
		slots := slices.Compact(slices.Sorted(slices.Values(strings.Fields(r.stdout))))
		if len(slots) != c.want {
			t.Errorf("-j %s: slots %q, want %d", c.j, slots, c.want)
		}
	}
}

// TestParallelJSON: --json prints one object per finished job.
func TestParallelJSON(t *testing.T) {
	r := parallel(t, "", "-k", "--json", "echo out {}; echo err >&2; exit {}", ":::", "0", "3")
	var jobs []jobJSON
	for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var j jobJSON
		if err := json.Unmarshal([]byte(l), &j); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		jobs = append(jobs, j)
	}
	if len(jobs) != 2 || r.code != 1 {
		t.Fatalf("%d objects, exit %d", len(jobs), r.code)
	}
	j := jobs[1]
	start, err := time.Parse(time.RFC3339Nano, j.Start)
	if j.Seq != 2 || !slices.Equal(j.Args, []string{"3"}) || j.Command != "echo out 3; echo err >&2; exit 3" ||
		j.ExitCode != 3 || j.Signal != 0 || j.Stdout != "out 3\n" || j.Stderr != "err\n" || err != nil ||
		time.Since(start) > time.Minute || j.Runtime <= 0 {
		t.Errorf("%+v", j)
	}
	r = parallel(t, "", "--json", "kill -9 $$", ":::", "1")
	if !strings.Contains(r.stdout, `"signal":9`) {
		t.Errorf("%s", r.stdout)
	}
}

// TestParallelJSONBytes: --json gives output that is not valid UTF-8
// exactly, in base64, beside the text; valid output has no base64 field.
func TestParallelJSONBytes(t *testing.T) {
	r := parallel(t, "", "--json", `printf 'ok\377\376\n\000'; printf '\200' >&2`, ":::", "1")
	var j jobJSON
	if err := json.Unmarshal([]byte(r.stdout), &j); err != nil {
		t.Fatalf("%q: %v", r.stdout, err)
	}
	if string(j.StdoutBase64) != "ok\xff\xfe\n\x00" || string(j.StderrBase64) != "\x80" || j.Stdout != "ok\ufffd\ufffd\n\x00" {
		t.Errorf("stdout %q, stdout_base64 %q, stderr_base64 %q; want the exact bytes", j.Stdout, j.StdoutBase64, j.StderrBase64)
	}
	r = parallel(t, "", "--json", "printf 'é\n'", ":::", "1")
	if strings.Contains(r.stdout, "base64") || !strings.Contains(r.stdout, `"stdout":"é\n"`) {
		t.Errorf("valid UTF-8: %s", r.stdout)
	}
}

// TestParallelLimits: --memory, --cpu and --files cap each job.
func TestParallelLimits(t *testing.T) {
	r := parallel(t, "", "--memory", "300M", "--cpu", "7s", "--files", "33", "ulimit -d; ulimit -t; ulimit -n; echo {}", ":::", "x")
	if r.stdout != "307200\n7\n33\nx\n" || r.code != 0 {
		t.Errorf("stdout %q, exit %d, stderr %q", r.stdout, r.code, r.stderr)
	}
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("no python3")
	}
	r = parallel(t, "", "--memory", "100M", "python3 -c 'x = bytearray({})'", ":::", "500000000")
	if r.code != 1 || !strings.Contains(r.stderr, "MemoryError") {
		t.Errorf("exit %d, stderr %q; want the job to fail on its allocation", r.code, r.stderr)
	}
}

// TestParallelUngroup: -u lets output through as the jobs write it.
func TestParallelUngroup(t *testing.T) {
	r := parallel(t, "", "-u", "-j1", "echo {}; echo e{} >&2", ":::", "1", "2")
	if r.stdout != "1\n2\n" || r.stderr != "e1\ne2\n" {
		t.Errorf("%+v", r)
	}
}

// TestParallelSpillBoundsMemory: grouped output past the threshold goes
// to a temporary file, so the parent's memory stays bounded: 20 jobs of
// 10 MiB each wait behind a slow first one under -k (200 MiB held at
// once), and childproc's peak RSS stays far below that.
func TestParallelSpillBoundsMemory(t *testing.T) {
	args := []string{"parallel", "-k", "-j4", `if [ {} = 1 ]; then sleep 2; fi; head -c 10485760 /dev/zero`, ":::"}
	for i := 1; i <= 21; i++ {
		args = append(args, strconv.Itoa(i))
	}
	var n int64
	rss := peakRSS(t, args, func(out io.Reader) { n, _ = io.Copy(io.Discard, out) })
	if n != 21*10485760 {
		t.Errorf("%d bytes of output, want %d", n, 21*10485760)
	}
	if rss == 0 || rss > 100<<20 {
		t.Errorf("peak RSS %d MiB while 200 MiB of output waited", rss>>20)
	}
	t.Logf("peak RSS %.1f MiB", float64(rss)/(1<<20))
}

// vmHWM returns the peak RSS of a process in bytes, 0 if unknown.
func vmHWM(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
