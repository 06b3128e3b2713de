package bench

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/childproc/childproc"
)

// BenchmarkSpawn starts /bin/true and waits for it: childproc with its
// defaults (three pipes, as in Node), with stdio ignored (os/exec's
// default), and with stdio ignored and SurviveParent (configured as
// os/exec's Run), against os/exec's Run.
func BenchmarkSpawn(b *testing.B) {
	b.Run("childproc", func(b *testing.B) {
		for b.Loop() {
			if err := spawnTrue(nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("childproc-ignore", func(b *testing.B) {
		opts := &childproc.Options{Stdio: []any{childproc.Ignore, childproc.Ignore, childproc.Ignore}}
		for b.Loop() {
			if err := spawnTrue(opts); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("childproc-survive", func(b *testing.B) {
		opts := &childproc.Options{Stdio: []any{childproc.Ignore, childproc.Ignore, childproc.Ignore}, SurviveParent: true}
		for b.Loop() {
			if err := spawnTrue(opts); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("osexec", func(b *testing.B) {
		for b.Loop() {
			if err := exec.Command("/bin/true").Run(); err != nil {
				b.Fatal(err)
			}
		}
	})
	// os/exec doing what Node's default stdio does: three pipes, read to
	// the end, then Wait.
	b.Run("osexec-pipes", func(b *testing.B) {
		for b.Loop() {
			if err := osexecPipes(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// spawnTrue starts /bin/true with childproc and waits for it.
func spawnTrue(opts *childproc.Options) error {
	c, err := childproc.Spawn(context.Background(), "/bin/true", nil, opts)
	if err != nil {
		return err
	}
	return c.Wait()
}

// osexecPipes runs /bin/true with os/exec as Node's default stdio has it:
// three pipes, read to the end, then Wait.
func osexecPipes() error {
	cmd := exec.Command("/bin/true")
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	errp, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		return err
	}
	in.Close()
	io.Copy(io.Discard, out)
	io.Copy(io.Discard, errp)
	return cmd.Wait()
}

// BenchmarkExec runs `echo hello` through /bin/sh with buffered output.
func BenchmarkExec(b *testing.B) {
	ctx := context.Background()
	b.Run("childproc", func(b *testing.B) {
		for b.Loop() {
			c, err := childproc.Exec(ctx, "echo hello", nil)
			if err != nil {
				b.Fatal(err)
			}
			out, _, err := c.Output()
			if err != nil || string(out) != "hello\n" {
				b.Fatalf("%q %v", out, err)
			}
		}
	})
	b.Run("osexec", func(b *testing.B) {
		for b.Loop() {
			out, err := exec.Command("/bin/sh", "-c", "echo hello").Output()
			if err != nil || string(out) != "hello\n" {
				b.Fatalf("%q %v", out, err)
			}
		}
	})
}

const streamBytes = 256 << 20

// BenchmarkStdout streams 256 MiB from `head -c` through the child's
// stdout pipe into io.Discard, reporting MB/s and the parent's peak RSS.
func BenchmarkStdout(b *testing.B) {
	ctx := context.Background()
	args := []string{"-c", strconv.Itoa(streamBytes), "/dev/zero"}
	b.Run("childproc", func(b *testing.B) {
		b.SetBytes(streamBytes)
		resetPeakRSS()
		for b.Loop() {
			c, err := childproc.Spawn(ctx, "head", args, &childproc.Options{Stdio: []any{childproc.Ignore, childproc.Pipe, childproc.Inherit}})
			if err != nil {
				b.Fatal(err)
			}
			n, err := io.Copy(io.Discard, c.Stdout)
			if err != nil || n != streamBytes {
				b.Fatal(n, err)
			}
			if err := c.Wait(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(peakRSSMB(), "peakRSS-MB")
	})
	b.Run("osexec", func(b *testing.B) {
		b.SetBytes(streamBytes)
		resetPeakRSS()
		for b.Loop() {
			cmd := exec.Command("head", args...)
			cmd.Stderr = os.Stderr
			out, err := cmd.StdoutPipe()
			if err != nil {
				b.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				b.Fatal(err)
			}
			n, err := io.Copy(io.Discard, out)
			if err != nil || n != streamBytes {
				b.Fatal(n, err)
			}
			if err := cmd.Wait(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(peakRSSMB(), "peakRSS-MB")
	})
}

// resetPeakRSS resets the kernel's high-water mark of this process's RSS
// (Linux: writing 5 to clear_refs), so peakRSSMB measures from here.
func resetPeakRSS() { os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSSMB returns VmHWM from /proc/self/status in MB, or 0.
func peakRSSMB() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range bytes.Split(data, []byte("\n")) {
		if rest, ok := strings.CutPrefix(string(line), "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 64)
			return kb / 1024
		}
	}
	return 0
}

// BenchmarkSpawnParallel starts /bin/true from 2, 4 and 8 goroutines at
// once (b.N spawns in all), childproc with its defaults and with
// SurviveParent (stdio ignored, as os/exec's Run) against os/exec's Run
// and os/exec with three pipes, to show whether concurrent spawns scale.
func BenchmarkSpawnParallel(b *testing.B) {
	ignore := []any{childproc.Ignore, childproc.Ignore, childproc.Ignore}
	runs := []struct {
		name  string
		spawn func() error
	}{
		{"childproc", func() error { return spawnTrue(nil) }},
		{"childproc-ignore", func() error { return spawnTrue(&childproc.Options{Stdio: ignore}) }},
		{"childproc-survive", func() error { return spawnTrue(&childproc.Options{Stdio: ignore, SurviveParent: true}) }},
		{"osexec", func() error { return exec.Command("/bin/true").Run() }},
		{"osexec-pipes", osexecPipes},
	}
	for _, g := range []int{2, 4, 8} {
		for _, r := range runs {
			b.Run("g="+strconv.Itoa(g)+"/"+r.name, func(b *testing.B) { spawnFrom(b, g, r.spawn) })
		}
	}
}

// spawnFrom runs spawn b.N times in all from g goroutines.
func spawnFrom(b *testing.B, g int, spawn func() error) {
	var left atomic.Int64
	left.Store(int64(b.N))
	errs := make(chan error, g)
	b.ResetTimer()
	for range g {
		go func() {
			for left.Add(-1) >= 0 {
				if err := spawn(); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range g {
		if err := <-errs; err != nil {
			b.Error(err)
		}
	}
}
