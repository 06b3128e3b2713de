package main

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkJoblogRecord is the cost of a joblog row as a job ends: its
// formatting and its write.
func BenchmarkJoblogRecord(b *testing.B) {
	l, _, err := openJoblog(filepath.Join(b.TempDir(), "log"), resumeNone)
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	j := &job{seq: 12345, cmd: "echo 12345", start: time.Now(), runtime: 1234567 * time.Microsecond, exit: 1}
	b.ReportAllocs()
	for b.Loop() {
		if err := l.record(j); err != nil {
			b.Fatal(err)
		}
	}
}

// TestAppendRuntime: JobRuntime is GNU's %10.3f.
func TestAppendRuntime(t *testing.T) {
	for _, d := range []time.Duration{0, 1234567 * time.Microsecond, 1500 * time.Microsecond, 123456789 * time.Millisecond, 987654321 * time.Second} {
		want := fmt.Sprintf("%10.3f", d.Seconds())
		if got := string(appendRuntime([]byte("x"), d)); got != "x"+want {
			t.Errorf("%v: %q, want %q", d, got, "x"+want)
		}
	}
}
