package childproc_test

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/childproc/childproc"
)

// The Exec tests that look in /proc for the processes a stop leaves.

// One byte more fails with CodeMaxBuffer, keeps the first MaxBuffer bytes
// and kills the child with KillSignal.
func TestExecMaxBufferExceeded(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		stream, redirect string
		maxBuffer, want  int
		killSignal       os.Signal
		wantSignal       string
	}{
		{"stdout", "", 0, 1 << 20, nil, "SIGTERM"},
		{"stderr", " >&2", 0, 1 << 20, nil, "SIGTERM"},
		{"stdout", "", 10, 10, syscall.SIGKILL, "SIGKILL"},
		{"stderr", " >&2", 1, 1, nil, "SIGTERM"},
	} {
		t.Run(tc.stream, func(t *testing.T) {
			t.Parallel()
			n := tc.want + 1
			// Keep the child alive after writing, so that it is there to be
			// killed: exec replaces sh, in the same pid.
			cmd := "head -c " + strconv.Itoa(n) + " /dev/zero" + tc.redirect + "; exec sleep 60"
			c, err := childproc.Exec(t.Context(), cmd, &childproc.Options{MaxBuffer: tc.maxBuffer, KillSignal: tc.killSignal})
			if err != nil {
				t.Fatal(err)
			}
			stdout, stderr, err := output(t, c)
			e := wantCode(t, err, childproc.CodeMaxBuffer)
			got, other := stdout, stderr
			if tc.stream == "stderr" {
				got, other = stderr, stdout
			}
			if len(got) != tc.want || len(other) != 0 {
				t.Fatalf("kept %d bytes of %s (want %d), %d of the other", len(got), tc.stream, tc.want, len(other))
			}
			if e.Error() != tc.stream+" maxBuffer length exceeded" {
				t.Fatalf("message %q", e.Error())
			}
			if !c.Killed() || c.SignalCode() != tc.wantSignal || e.Signal != tc.wantSignal {
				t.Fatalf("Killed %v SignalCode %q, error %#v", c.Killed(), c.SignalCode(), e)
			}
			if e.Cmd != cmd {
				t.Fatalf("Cmd %q", e.Cmd)
			}
			if !bytes.Equal(map[string][]byte{"stdout": e.Stdout, "stderr": e.Stderr}[tc.stream], got) {
				t.Fatal("the error's output differs from Output's")
			}
		})
	}
}

// A timeout stops the grandchildren that hold the pipes too, and does
// not wait for them.
func TestExecTimeoutWithGrandchild(t *testing.T) {
	t.Parallel()
	c, err := childproc.Exec(t.Context(), "sleep 60 & echo $!; exec sleep 60", &childproc.Options{Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	stdout, _, err := output(t, c)
	if e := asError(t, err); !e.TimedOut || e.Signal != "SIGTERM" {
		t.Fatalf("%#v", e)
	}
	p, perr := strconv.Atoi(strings.TrimSpace(string(stdout)))
	if perr != nil {
		t.Fatalf("stdout %q: no grandchild pid", stdout)
	}
	defer syscall.Kill(p, syscall.SIGKILL)
	if !eventually(func() bool { return !alive(p) }) {
		t.Fatalf("the grandchild %d outlived the timeout's stop", p)
	}
}
