package childproc_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/childproc/childproc"
)

// seqBytes is what `seq 1 n` writes.
func seqBytes(n int) []byte {
	var b bytes.Buffer
	for i := 1; i <= n; i++ {
		b.WriteString(strconv.Itoa(i))
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// checkPrefixOrWhole fails unless got is the whole of want with no error,
// or exactly want's first max bytes and an error wrapping ErrTruncated.
func checkPrefixOrWhole(t *testing.T, what string, got, want []byte, err error, max int) {
	t.Helper()
	switch {
	case err == nil && bytes.Equal(got, want):
	case errors.Is(err, childproc.ErrTruncated) && len(want) > max && bytes.Equal(got, want[:max]):
	default:
		n := len(got)
		if n > 40 {
			n = 40
		}
		t.Errorf("%s: read %d bytes (starting %q), err %v; want all %d bytes, or the first %d and ErrTruncated",
			what, len(got), got[:n], err, len(want), max)
	}
}

// A reader that starts at a random moment around the child's exit, while a
// grandchild still writes, gets everything or exactly the first MaxBuffer
// bytes then ErrTruncated: never a gap, never bytes from after it.
func TestAttackPartsLateReaderAroundDiscard(t *testing.T) {
	// The shell's own 24 KiB fit in the pipe, so it exits unread; the
	// grandchild's 560 KiB come through the drain.
	want := seqBytes(100000)
	for i := range 24 {
		max := []int{1, 7, 4096, 65536, 1 << 20}[i%5]
		c, err := childproc.Spawn(context.Background(), "sh",
			[]string{"-c", "seq 1 5000; (seq 5001 100000) & exit 0"},
			&childproc.Options{MaxBuffer: max, Stdio: []any{childproc.Ignore, childproc.Pipe, childproc.Ignore}})
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(rand.IntN(30000)) * time.Microsecond)
		if i%3 == 0 {
			<-c.Exited()
		}
		got, err := io.ReadAll(c.Stdout)
		checkPrefixOrWhole(t, "MaxBuffer "+strconv.Itoa(max), got, want, err, max)
		if err := waitFor(t, c); err != nil {
			t.Errorf("Wait: %v", err)
		}
	}
}

// A reader that comes only after Wait, with slow tiny reads, gets exactly
// the first MaxBuffer bytes and then ErrTruncated, again on each later Read.
func TestAttackPartsSlowReaderAfterWait(t *testing.T) {
	want := seqBytes(10000) // 48 KiB: fits in the pipe, so seq exits unread
	for _, max := range []int{1, 3, 4095, 4096, 4097, 40000} {
		c, err := childproc.Spawn(context.Background(), "seq", []string{"1", "10000"},
			&childproc.Options{MaxBuffer: max, Stdio: []any{childproc.Ignore, childproc.Pipe, childproc.Pipe}})
		if err != nil {
			t.Fatal(err)
		}
		if err := waitFor(t, c); err != nil {
			t.Fatalf("Wait: %v", err)
		}
		var got []byte
		buf := make([]byte, 3)
		var rerr error
		for {
			n, err := c.Stdout.Read(buf)
			got = append(got, buf[:n]...)
			if err != nil {
				rerr = err
				break
			}
		}
		if !errors.Is(rerr, childproc.ErrTruncated) || !bytes.Equal(got, want[:max]) {
			t.Errorf("MaxBuffer %d: %d bytes, err %v; want the first %d and ErrTruncated", max, len(got), rerr, max)
		}
		if n, err := c.Stdout.Read(buf); n != 0 || !errors.Is(err, childproc.ErrTruncated) {
			t.Errorf("MaxBuffer %d: a Read after the error: %d, %v; want 0 and ErrTruncated again", max, n, err)
		}
		if b, err := io.ReadAll(c.Stderr); len(b) != 0 || err != nil {
			t.Errorf("stderr: %q, %v; want empty and no error", b, err)
		}
	}
}

// A Stdout given as the stdin of a second child, at random moments around
// the first child's exit, loses and reorders nothing.
func TestAttackPartsStdoutAsStdinWhileDrained(t *testing.T) {
	for i := range 12 {
		// A first child waited for before the second starts must fit in
		// the pipe (48 KiB) to exit unread.
		n := []int{10000, 40000, 40000, 40000}[i%4]
		want := seqBytes(n)
		first, err := childproc.Spawn(context.Background(), "seq", []string{"1", strconv.Itoa(n)},
			&childproc.Options{Stdio: []any{childproc.Ignore, childproc.Pipe, childproc.Ignore}})
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(rand.IntN(20000)) * time.Microsecond)
		if i%4 == 0 {
			<-first.Exited()
		}
		second, err := childproc.Spawn(context.Background(), "cat", nil,
			&childproc.Options{Stdio: []any{first.Stdout, childproc.Pipe, childproc.Ignore}})
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(second.Stdout)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("round %d: cat gave %d bytes (err %v), want %d", i, len(got), err, len(want))
		}
		if err := waitFor(t, second); err != nil {
			t.Errorf("second Wait: %v", err)
		}
		if err := waitFor(t, first); err != nil {
			t.Errorf("first Wait: %v", err)
		}
	}
}

// blockForever is a Writer whose Write never returns until released.
type blockForever struct{ release chan struct{} }

func (b blockForever) Write(p []byte) (int, error) { <-b.release; return len(p), nil }

// WaitDelay bounds Wait when a grandchild holds stdout and the Writer the
// output is copied to blocks forever: Wait ends with ErrWaitDelay.
func TestAttackPartsWaitDelayBlockedWriterAndGrandchild(t *testing.T) {
	w := blockForever{release: make(chan struct{})}
	defer close(w.release)
	mark := uniqueMark(t)
	c, err := childproc.Spawn(context.Background(), "sh", []string{"-c", "echo hi; sleep 30 & exit 0"},
		&childproc.Options{
			Env:       append(os.Environ(), "CHILDPROC_TEST_MARK="+mark),
			Stdio:     []any{childproc.Ignore, w, childproc.Ignore},
			WaitDelay: 200 * time.Millisecond,
		})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { killAll(markedProcesses(mark)) }()
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	select {
	case err := <-done:
		if !errors.Is(err, childproc.ErrWaitDelay) || asError(t, err).Code != childproc.CodeWaitDelay {
			t.Errorf("Wait: %v, want CodeWaitDelay wrapping ErrWaitDelay", err)
		}
		t.Logf("Wait returned after %v", time.Since(start))
	case <-time.After(15 * time.Second):
		t.Fatal("Wait still blocked 15 s after the shell exited, with WaitDelay 200 ms")
	}
}

// Wait, Stop, Kill and KillTree from many goroutines at once: every Wait
// returns the same error, every Stop nil, no zombie and no fd is left.
func TestAttackPartsStopKillWaitRace(t *testing.T) {
	if err := leakCycle(0); err != nil {
		t.Fatal(err)
	}
	fdsBefore := openFds(t)
	for round := range 10 {
		c, err := childproc.Spawn(context.Background(), "sh", []string{"-c", "seq 1 100000; sleep 30"},
			&childproc.Options{KillTree: round%2 == 0, ForceKillAfter: 300 * time.Millisecond,
				Stdio: []any{childproc.Pipe, childproc.Pipe, childproc.Pipe}})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for g := range 8 {
			wg.Go(func() { errs[g] = c.Wait() })
		}
		for g := range 6 {
			wg.Go(func() {
				switch g % 3 {
				case 0:
					if err := c.Stop(context.Background()); err != nil {
						t.Errorf("Stop: %v", err)
					}
				case 1:
					_ = c.Kill(syscall.SIGKILL)
				case 2:
					_ = c.KillTree(nil)
				}
			})
		}
		wg.Wait()
		for g, err := range errs {
			if err == nil || err.Error() != errs[0].Error() {
				t.Errorf("round %d: Wait %d: %v; Wait 0: %v", round, g, err, errs[0])
			}
		}
		if e := asError(t, errs[0]); e.Signal != "SIGKILL" && e.Signal != "SIGTERM" {
			t.Errorf("round %d: Wait %v, want a signal", round, e)
		}
	}
	time.Sleep(500 * time.Millisecond)
	if z := ourZombies(); len(z) > 0 {
		t.Errorf("zombies left: %v", z)
	}
	var fds []string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if fds = newFds(fdsBefore, openFds(t)); len(fds) == 0 {
			break
		}
	}
	if len(fds) > 0 {
		t.Errorf("fds left: %v", fds)
	}
}

// A child SIGKILLed right after its start, or in the middle of its output,
// ends with Signal SIGKILL; what was read is a prefix of what it writes.
func TestAttackPartsKilledAtEveryStep(t *testing.T) {
	want := seqBytes(200000)
	for i := range 16 {
		c, err := childproc.Spawn(context.Background(), "seq", []string{"1", "200000"},
			&childproc.Options{Stdio: []any{childproc.Ignore, childproc.Pipe, childproc.Ignore}})
		if err != nil {
			t.Fatal(err)
		}
		read := make(chan []byte, 1)
		if i%2 == 1 {
			go func() { b, _ := io.ReadAll(c.Stdout); read <- b }()
		}
		time.Sleep(time.Duration(i*300) * time.Microsecond)
		killErr := c.Kill(syscall.SIGKILL)
		err = waitFor(t, c)
		if i%2 == 0 {
			b, rerr := io.ReadAll(c.Stdout)
			if rerr != nil && !errors.Is(rerr, childproc.ErrTruncated) {
				t.Errorf("late Read: %v", rerr)
			}
			read <- b
		}
		got := <-read
		if !bytes.HasPrefix(want, got) {
			t.Errorf("step %d: %d bytes read are not a prefix of the output", i, len(got))
		}
		if killErr == nil {
			if e := asError(t, err); e.Signal != "SIGKILL" || !c.Killed() {
				t.Errorf("step %d: Wait %v (Killed %v), want SIGKILL", i, err, c.Killed())
			}
		} else if err != nil {
			t.Errorf("step %d: Kill failed (%v), yet Wait: %v", i, killErr, err)
		}
	}
	time.Sleep(300 * time.Millisecond)
	if z := ourZombies(); len(z) > 0 {
		t.Errorf("zombies left: %v", z)
	}
}

// CombinedOutput of a child spewing without newlines keeps exactly
// MaxBuffer bytes and says CodeMaxBuffer; Lines yields it as one line.
func TestAttackPartsSpewWithoutNewlines(t *testing.T) {
	for _, max := range []int{1, 1000, 1 << 20} {
		out, err := childproc.CombinedOutput(context.Background(), "sh",
			[]string{"-c", "head -c 3000000 /dev/zero | tr '\\0' a; head -c 100 /dev/zero | tr '\\0' b >&2"},
			&childproc.Options{MaxBuffer: max})
		if e := asError(t, err); e.Code != childproc.CodeMaxBuffer || !errors.Is(err, childproc.ErrMaxBuffer) {
			t.Errorf("MaxBuffer %d: %v, want CodeMaxBuffer", max, err)
		}
		if len(out) != max || bytes.Count(out, []byte("a")) != max {
			t.Errorf("MaxBuffer %d: kept %d bytes (%d a), want %d a", max, len(out), bytes.Count(out, []byte("a")), max)
		}
	}
	c, err := childproc.Spawn(context.Background(), "sh", []string{"-c", "head -c 2000000 /dev/zero | tr '\\0' a"},
		&childproc.Options{MaxBuffer: childproc.DefaultMaxBuffer * 4, Stdio: []any{childproc.Ignore, childproc.Pipe, childproc.Ignore}})
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for line, err := range childproc.Lines(c.Stdout) {
		if err != nil {
			t.Errorf("Lines: %v", err)
			break
		}
		lines = append(lines, line)
	}
	if len(lines) != 1 || len(lines[0]) != 2000000 {
		t.Errorf("Lines: %d lines, first %d bytes; want one line of 2000000", len(lines), len(firstOr(lines)))
	}
	if err := waitFor(t, c); err != nil {
		t.Errorf("Wait: %v", err)
	}
}

func firstOr(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// Output after a late Wait, and Wait called twice and from two goroutines,
// agree; MaxBuffer math.MaxInt keeps all of a big output read late.
func TestAttackPartsHugeMaxBufferLateRead(t *testing.T) {
	// The grandchild writes 10 MiB after the shell exited, into the drain.
	c, err := childproc.Spawn(context.Background(), "sh", []string{"-c", "(seq 1 1500000) & exit 0"},
		&childproc.Options{MaxBuffer: int(^uint(0) >> 1), Stdio: []any{childproc.Ignore, childproc.Pipe, childproc.Ignore}})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var e1, e2 error
	wg.Go(func() { e1 = c.Wait() })
	wg.Go(func() { e2 = c.Wait() })
	wg.Wait()
	if e1 != nil || e2 != nil || c.Wait() != nil {
		t.Fatalf("Waits: %v, %v", e1, e2)
	}
	out, err := exec.Command("seq", "1", "1500000").Output()
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(c.Stdout)
	if err != nil || !bytes.Equal(got, out) {
		t.Errorf("late read: %d bytes, %v; want all %d", len(got), err, len(out))
	}
}
