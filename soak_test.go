//go:build linux

package childproc_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/childproc/childproc"
)

// The goroutines childproc keeps for the life of the process.
var permanentGoroutines = []goleak.Option{
	goleak.IgnoreAnyFunction("github.com/childproc/childproc/internal/guardian.reapGuardian"),
}

// soakCycle runs one child with an outcome picked by i: success, non-zero
// exit, death by signal, timeout, abort, maxBuffer, a sync form, a spawn
// failure, a child nobody waits for, a child whose stdout nobody reads.
func soakCycle(t testing.TB, i int) {
	ctx := context.Background()
	quiet := &childproc.Options{Stdio: []any{childproc.Ignore, childproc.Ignore, childproc.Ignore}}
	switch i % 10 {
	case 0:
		c, err := childproc.Spawn(ctx, "/bin/true", nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Wait(); err != nil {
			t.Fatal(err)
		}
	case 1:
		c, err := childproc.Exec(ctx, "echo out; exit 3", nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.Output(); err == nil {
			t.Fatal("exit 3 succeeded")
		}
	case 2:
		c, err := childproc.Spawn(ctx, "sh", []string{"-c", "kill -9 $$"}, quiet)
		if err != nil {
			t.Fatal(err)
		}
		if c.Wait() == nil || c.SignalCode() != "SIGKILL" {
			t.Fatal("want SIGKILL")
		}
	case 3:
		c, err := childproc.ExecFile(ctx, "sleep", []string{"5"}, &childproc.Options{Timeout: 5 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.Output(); err == nil {
			t.Fatal("timeout did not fail")
		}
	case 4:
		actx, cancel := context.WithCancel(ctx)
		c, err := childproc.Spawn(actx, "sleep", []string{"5"}, nil)
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		time.AfterFunc(2*time.Millisecond, cancel)
		if c.Wait() == nil {
			t.Fatal("abort did not fail")
		}
		cancel()
	case 5:
		c, err := childproc.Exec(ctx, "head -c 100000 /dev/zero", &childproc.Options{MaxBuffer: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if out, _, err := c.Output(); err == nil || len(out) != 1000 {
			t.Fatalf("maxBuffer: %d %v", len(out), err)
		}
	case 6:
		if r := childproc.SpawnSync("sh", []string{"-c", "cat; exit 4"}, &childproc.Options{Input: []byte("in")}); r.Status != 4 || string(r.Stdout) != "in" {
			t.Fatalf("sync: %d %q %v", r.Status, r.Stdout, r.Err)
		}
	case 7:
		if _, err := childproc.Spawn(ctx, "childproc-no-such-program", nil, nil); err == nil {
			t.Fatal("ENOENT expected")
		}
	case 8:
		// Never waited for.
		if _, err := childproc.Spawn(ctx, "/bin/true", nil, quiet); err != nil {
			t.Fatal(err)
		}
	case 9:
		// Stdout never read; Wait drains it.
		c, err := childproc.Spawn(ctx, "echo", []string{"unread"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Wait(); err != nil {
			t.Fatal(err)
		}
	}
}

func countFds(t testing.TB) int {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	return len(entries)
}

// zombies lists our children that have exited and not been reaped.
func zombies() []int {
	var out []int
	self := strconv.Itoa(os.Getpid())
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(stat)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) > 2 && f[0] == "Z" && f[1] == self {
			pid, _ := strconv.Atoi(e.Name())
			out = append(out, pid)
		}
	}
	return out
}

// soak runs n cycles over 4 goroutines and checks that fds, goroutines and
// zombies are back to where they were.
func soak(t testing.TB, n int) {
	soakCycle(t, 0) // start the spawner thread before the baseline
	baseFds := countFds(t)
	ignore := append([]goleak.Option{goleak.IgnoreCurrent()}, permanentGoroutines...)
	var wg sync.WaitGroup
	const workers = 4
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				soakCycle(t, i)
			}
		}()
	}
	wg.Wait()
	// Children nobody waited for finish on their own.
	deadline := time.Now().Add(10 * time.Second)
	for {
		fds, zs := countFds(t), zombies()
		err := goleak.Find(ignore...)
		if fds == baseFds && len(zs) == 0 && err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %d cycles: fds %d (baseline %d), zombies %v, goroutines: %v", n, fds, baseFds, zs, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestSoak runs 10,000 mixed cycles (set CHILDPROC_SOAK to change the
// count; -short runs 1,000).
func TestSoak(t *testing.T) {
	n := 10000
	if testing.Short() {
		n = 1000
	}
	if v, err := strconv.Atoi(os.Getenv("CHILDPROC_SOAK")); err == nil {
		n = v
	}
	start := time.Now()
	soak(t, n)
	t.Logf("%d cycles in %v", n, time.Since(start))
}

// BenchmarkSoak is the long soak: run it with
//
//	go test -run='^$' -bench=Soak -benchtime=100000x .
//
// It fails if fds, goroutines or zombies are not back to their baseline.
func BenchmarkSoak(b *testing.B) {
	soak(b, b.N)
}
