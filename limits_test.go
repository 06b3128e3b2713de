//go:build linux

package childproc_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/childproc/childproc"
)

// How a limit case is run: through an entry point that keeps stderr (the
// child's own words are evidence) or one that does not (only how it ended
// and what it used are).
const (
	viaExecFile     = "ExecFile"     // stderr kept
	viaExecFileSync = "ExecFileSync" // stderr kept
	viaSpawn        = "Spawn"        // stdio ignored: no stderr to read
)

// limitCase is a child run under limits, and the limit its error must name
// ("" for none) with the words that name it in the message.
type limitCase struct {
	name   string
	via    []string
	argv   []string
	limits childproc.Limits
	opts   childproc.Options // Timeout, Stdio
	needs  string            // a program the case needs, skipped without it
	small  bool              // the evidence is the child's peak RSS: run it from a parent of small RSS
	limit  string            // want Error.Limit
	says   string            // want this in the message ("" when limit is "")
}

// runLimited runs one case through one entry point and returns its error.
func runLimited(t *testing.T, via string, lc limitCase) error {
	t.Helper()
	opts := lc.opts
	l := lc.limits
	opts.Limits = &l
	switch via {
	case viaExecFile:
		c, err := childproc.ExecFile(context.Background(), lc.argv[0], lc.argv[1:], &opts)
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = output(t, c)
		return err
	case viaExecFileSync:
		if opts.Stdio == nil {
			opts.Stdio = []any{childproc.Pipe, childproc.Pipe, childproc.Pipe}
		}
		_, err := childproc.ExecFileSync(lc.argv[0], lc.argv[1:], &opts)
		return err
	case viaSpawn:
		if opts.Stdio == nil {
			opts.Stdio = []any{childproc.Ignore, childproc.Ignore, childproc.Ignore}
		}
		c, err := childproc.Spawn(context.Background(), lc.argv[0], lc.argv[1:], &opts)
		if err != nil {
			t.Fatal(err)
		}
		return waitFor(t, c)
	}
	t.Fatalf("no entry point %q", via)
	return nil
}

// checkLimit runs the cases and checks the limit each error names.
func checkLimit(t *testing.T, cases []limitCase) {
	for _, lc := range cases {
		t.Run(lc.name, func(t *testing.T) {
			t.Parallel()
			if lc.needs != "" {
				if _, err := exec.LookPath(lc.needs); err != nil {
					t.Skipf("no %s", lc.needs)
				}
			}
			for _, via := range lc.via {
				limit, msg := runCase(t, via, lc)
				if limit != lc.limit {
					t.Errorf("%s: Limit %q, want %q (%s)", via, limit, lc.limit, msg)
				}
				switch {
				case lc.says != "" && !strings.HasSuffix(msg, lc.says):
					t.Errorf("%s: message %q does not end in %q", via, msg, lc.says)
				case lc.says == "" && strings.Contains(msg, " limit "):
					t.Errorf("%s: message %q names a limit", via, msg)
				}
			}
		})
	}
}

// limitHelperEnv carries a case to TestLimitHelper.
const limitHelperEnv = "CHILDPROC_TEST_LIMIT_CASE"

// limitRun is a case as TestLimitHelper runs it, and what it reports.
type limitRun struct {
	Via    string
	Argv   []string
	Limits childproc.Limits
	Limit  string
	Msg    string
}

// runCase runs a case and returns the limit its error names and the first
// line of its message. A case whose evidence is the child's peak RSS runs
// in a fresh copy of the test binary: Linux counts the parent's peak RSS
// in a vfork-started child's, and this process's may be above the cap.
func runCase(t *testing.T, via string, lc limitCase) (limit, msg string) {
	t.Helper()
	if !lc.small {
		err := runLimited(t, via, lc)
		if err == nil {
			t.Fatalf("%s: the child succeeded", via)
		}
		return asError(t, err).Limit, firstLine(err)
	}
	spec, err := json.Marshal(limitRun{Via: via, Argv: lc.argv, Limits: lc.limits})
	if err != nil {
		t.Fatal(err)
	}
	// Through a shell that forks it: a process started with vfork, as
	// os/exec starts it, would count this one's peak in its own.
	cmd := exec.Command("sh", "-c", `"$0" "$@"; exit $?`, os.Args[0], "-test.run=^TestLimitHelper$", "-test.v=false")
	cmd.Env = append(os.Environ(), limitHelperEnv+"="+string(spec))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	line, _, _ := strings.Cut(string(out), "\n")
	var r limitRun
	if err := json.Unmarshal([]byte(line), &r); err != nil {
		t.Fatalf("helper said %q: %v", out, err)
	}
	return r.Limit, r.Msg
}

// TestLimitHelper is not a test: it runs one case for runCase, in a
// process whose peak RSS is its own small one, and prints the result.
func TestLimitHelper(t *testing.T) {
	spec := os.Getenv(limitHelperEnv)
	if spec == "" {
		t.Skip("runs only as a helper process")
	}
	var r limitRun
	if err := json.Unmarshal([]byte(spec), &r); err != nil {
		t.Fatal(err)
	}
	err := runLimited(t, r.Via, limitCase{argv: r.Argv, limits: r.Limits})
	if err == nil {
		r.Msg = "the child succeeded"
	} else {
		r.Limit, r.Msg = asError(t, err).Limit, firstLine(err)
	}
	b, _ := json.Marshal(r)
	fmt.Printf("%s\n", b)
	os.Exit(0)
}

func firstLine(err error) string {
	line, _, _ := strings.Cut(err.Error(), "\n")
	return line
}

const capMiB = 100 << 20

var (
	memCap = childproc.Limits{Memory: capMiB}
	every  = []string{viaExecFile, viaExecFileSync, viaSpawn}
	kept   = []string{viaExecFile, viaExecFileSync} // stderr is evidence
)

// A failure under a memory cap names the cap only on evidence: the child
// saying that an allocation failed (when its stderr is kept), or a peak RSS
// near the cap with a failure of the kind a failed allocation brings.
func TestMemoryLimitNeedsEvidence(t *testing.T) {
	t.Parallel()
	alloc := allocatorPath(t)
	says := "(memory limit 100 MiB)"
	checkLimit(t, []limitCase{
		// Not memory: failures that have nothing to do with the cap.
		{name: "exit 3", via: every, argv: []string{"sh", "-c", "exit 3"}, limits: memCap},
		{name: "TERM", via: every, argv: []string{"sh", "-c", "kill -TERM $$"}, limits: memCap},
		{name: "ls /nope", via: every, argv: []string{"ls", "/nope"}, limits: memCap},
		{name: "SEGV far from the cap", via: every, argv: []string{"sh", "-c", "kill -SEGV $$"}, limits: memCap},
		{name: "says out of memory, then TERM", via: every, argv: []string{"sh", "-c", "echo out of memory >&2; kill -TERM $$"}, limits: memCap},
		{name: "near the cap, then TERM", via: every, needs: "python3", limits: memCap,
			argv: []string{"python3", "-c", "import os, signal; b = bytearray(b'1') * (85 << 20); os.kill(os.getpid(), signal.SIGTERM)"}},
		{name: "timed out saying out of memory", via: every, argv: []string{"sh", "-c", "echo out of memory >&2; exec sleep 30"}, limits: memCap,
			opts: childproc.Options{Timeout: 200 * time.Millisecond}},
		{name: "Go usage error", via: every, argv: []string{alloc, "x"}, limits: memCap},
		{name: "Go panic", via: every, argv: []string{alloc, "-1"}, limits: memCap},
		{name: "says out of memory, no cap", via: kept, argv: []string{"sh", "-c", "echo out of memory >&2; exit 2"},
			limits: childproc.Limits{OpenFiles: 256}},

		// Memory: the child says so.
		{name: "Go runtime out of memory", via: kept, argv: []string{alloc, "1024"}, limits: memCap, limit: "memory", says: "exit status 2 " + says},
		{name: "Python MemoryError", via: kept, needs: "python3", argv: []string{"python3", "-c", "x = bytearray(10**9)"}, limits: memCap,
			limit: "memory", says: "exit status 1 " + says},
		{name: "Node Buffer", via: kept, needs: "node", argv: []string{"node", "-e", "Buffer.alloc(1e9)"}, limits: memCap,
			limit: "memory", says: "exit status 1 " + says},
		{name: "dd's malloc fails", via: kept, argv: []string{"dd", "bs=1G", "count=1", "if=/dev/zero", "of=/dev/null"}, limits: memCap,
			limit: "memory", says: "exit status 1 " + says},
		{name: "address space", via: kept, needs: "python3", argv: []string{"python3", "-c", "x = bytearray(10**9)"},
			limits: childproc.Limits{AddressSpace: 300 << 20}, limit: "memory", says: "exit status 1 (address space limit 300 MiB)"},

		// Memory: the kernel's count says so, without stderr.
		{name: "Python grows to the cap", via: every, needs: "python3", small: true, limits: memCap, limit: "memory", says: "exit status 1 " + says,
			argv: []string{"python3", "-c", "x = [bytearray(b'1') * 10**6 for i in range(1000)]"}},
	})
}

// A C program whose malloc fails and who then writes through the NULL
// pointer is a SIGSEGV near the cap; the same crash far from the cap is not
// taken for one.
func TestMemoryLimitSegfault(t *testing.T) {
	t.Parallel()
	cc, err := exec.LookPath("cc")
	if err != nil {
		t.Skip("no C compiler")
	}
	dir := t.TempDir()
	src := writeFile(t, dir, "grow.c", `#include <stdlib.h>
#include <string.h>
/* grow KiB: allocate and touch KiB-sized blocks until malloc fails, then
   write through the NULL it returned, as careless C code does. */
int main(int argc, char **argv) {
	size_t n = (size_t)atol(argv[1]) << 10;
	for (;;) memset(malloc(n), 1, n);
}
`, 0o644)
	bin := filepath.Join(dir, "grow")
	if out, err := exec.Command(cc, "-O0", "-o", bin, src).CombinedOutput(); err != nil {
		t.Fatalf("cc: %v\n%s", err, out)
	}
	checkLimit(t, []limitCase{
		{name: "small blocks up to the cap", via: every, small: true, argv: []string{bin, "64"}, limits: memCap, limit: "memory", says: "killed by SIGSEGV (memory limit 100 MiB)"},
		{name: "one block over the cap", via: every, argv: []string{bin, "1048576"}, limits: memCap},
	})
}

// A child ended by the CPU cap names it; SIGXCPU without the cap, or
// without the CPU time to show for it, does not.
func TestCPULimitNeedsEvidence(t *testing.T) {
	t.Parallel()
	cpu := childproc.Limits{CPUTime: time.Second}
	checkLimit(t, []limitCase{
		{name: "SIGXCPU", via: []string{viaSpawn}, argv: []string{"sh", "-c", "while :; do :; done"}, limits: cpu,
			limit: "cpu", says: "killed by SIGXCPU (cpu limit 1s)"},
		{name: "SIGXCPU reported by a shell", via: []string{viaExecFile}, argv: []string{"sh", "-c", "sh -c 'while :; do :; done'"}, limits: cpu,
			limit: "cpu", says: "exit status 152 (cpu limit 1s)"},
		{name: "SIGXCPU ignored, SIGKILL at the hard limit", via: []string{viaSpawn}, argv: []string{"sh", "-c", "trap '' XCPU; while :; do :; done"}, limits: cpu,
			limit: "cpu", says: "killed by SIGKILL (cpu limit 1s)"},
		{name: "SIGXCPU without the CPU time", via: every, argv: []string{"sh", "-c", "kill -XCPU $$"}, limits: childproc.Limits{CPUTime: 10 * time.Second}},
		{name: "SIGXCPU without a cap", via: every, argv: []string{"sh", "-c", "kill -XCPU $$"}, limits: childproc.Limits{OpenFiles: 256}},
		{name: "exit 3", via: every, argv: []string{"sh", "-c", "exit 3"}, limits: cpu},
	})
}

// A child ended by the file size cap names it; SIGXFSZ without the cap
// does not.
func TestFileSizeLimitNeedsEvidence(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out, err := os.Create(filepath.Join(dir, "out"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { out.Close() })
	fsize := childproc.Limits{FileSize: 1 << 20}
	says := "(filesize limit 1 MiB)"
	checkLimit(t, []limitCase{
		{name: "SIGXFSZ", via: []string{viaSpawn}, argv: []string{"head", "-c", "2000000", "/dev/zero"}, limits: fsize,
			opts: childproc.Options{Stdio: []any{childproc.Ignore, out, childproc.Ignore}}, limit: "filesize", says: "killed by SIGXFSZ " + says},
		{name: "SIGXFSZ reported by a shell", via: every, argv: []string{"sh", "-c", "head -c 2000000 /dev/zero > " + filepath.Join(dir, "sh")}, limits: fsize,
			limit: "filesize", says: "exit status 153 " + says},
		{name: "SIGXFSZ ignored, EFBIG", via: kept, needs: "python3", limits: fsize, limit: "filesize", says: "exit status 1 " + says,
			argv: []string{"python3", "-c", "import signal, sys; signal.signal(signal.SIGXFSZ, signal.SIG_IGN); open(sys.argv[1], 'wb').write(b'x' * 2000000)", filepath.Join(dir, "py")}},
		{name: "SIGXFSZ without a cap", via: every, argv: []string{"sh", "-c", "kill -XFSZ $$"}, limits: childproc.Limits{OpenFiles: 256}},
		{name: "exit 3", via: every, argv: []string{"sh", "-c", "exit 3"}, limits: fsize},
	})
}

// A parent whose peak RSS is above the cap does not make its children's
// failures look like memory ones, though Linux counts that peak in their
// MaxRSS.
func TestLimitParentPeakNotEvidence(t *testing.T) {
	t.Parallel()
	ballast := make([]byte, capMiB*6/5)
	for i := 0; i < len(ballast); i += 4096 {
		ballast[i] = 1
	}
	c, err := childproc.Spawn(t.Context(), "sh", []string{"-c", "exit 3"}, &childproc.Options{
		Limits: &memCap, Stdio: []any{childproc.Ignore, childproc.Ignore, childproc.Ignore}})
	if err != nil {
		t.Fatal(err)
	}
	err = waitFor(t, c)
	ballast[0]++ // kept until the child has run
	if e := asError(t, err); e.Limit != "" || e.ExitCode != 3 {
		t.Fatalf("exit 3 under a fat parent: %v", err)
	}
	if rss := c.Rusage().MaxRSS; rss < capMiB {
		t.Logf("the child's MaxRSS is %d MiB: this kernel does not count the parent's peak", rss>>20)
	}
}
