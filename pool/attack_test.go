//go:build linux

package pool_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"runtime"

	"github.com/childproc/childproc"
	"github.com/childproc/childproc/pool"
	"go.uber.org/goleak"
)

var atkSleep = pool.Register("atk-sleep", func(ctx context.Context, ms int) (int, error) {
	switch {
	case ms == -1:
		os.Exit(7)
	case ms == -2:
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
	}
	select {
	case <-time.After(time.Duration(ms) * time.Millisecond):
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	return ms, nil
})

const pyHead = `import os,sys,json,time,signal
fd=int(os.environ["NODE_CHANNEL_FD"])
rf=os.fdopen(os.dup(fd),"rb")
def send(o): os.write(fd,(json.dumps(o)+"\n").encode())
def recv():
    while True:
        l=rf.readline()
        if not l: sys.exit(0)
        m=json.loads(l)
        if isinstance(m,dict) and m.get("pool")=="task": return m
`

func pyWorker(t *testing.T, body string) pool.Worker[int, int] {
	dir := t.TempDir()
	path := filepath.Join(dir, "w.py")
	if err := os.WriteFile(path, []byte(pyHead+body), 0o644); err != nil {
		t.Fatal(err)
	}
	return pool.Script[int, int](path)
}

// within runs f and fails the test if it does not return in d.
func within(t *testing.T, d time.Duration, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(d):
		buf := make([]byte, 1<<20)
		n := runtimeStack(buf)
		t.Fatalf("%s: did not return within %v\n%s", what, d, buf[:n])
	}
}

func childrenOf(pid int) []int {
	var out []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		f := strings.Fields(s[i+2:])
		if c, _ := os.ReadFile("/proc/" + e.Name() + "/cmdline"); strings.HasPrefix(string(c), "childproc-guardian") {
			continue
		}
		if len(f) > 1 && f[1] == strconv.Itoa(pid) {
			out = append(out, p)
		}
	}
	return out
}

var warmOnce sync.Once

func fdCount() int {
	warmOnce.Do(func() {
		p, err := pool.New(atkSleep, &pool.Options{Size: 1})
		if err == nil {
			p.Close()
		}
	})
	ents, _ := os.ReadDir("/proc/self/fd")
	return len(ents)
}

// checkClean: after Close, no child process of ours and no extra fd.
func checkClean(t *testing.T, fds0 int) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		kids := childrenOf(os.Getpid())
		fds := fdCount()
		if len(kids) == 0 && fds <= fds0 {
			return
		}
		if time.Now().After(deadline) {
			var desc []string
			for _, k := range kids {
				c, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", k))
				st, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", k))
				desc = append(desc, fmt.Sprintf("%d %q %.60s", k, c, st))
			}
			t.Errorf("after Close: children %v, fds %d (before %d)", desc, fds, fds0)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func atkAlive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return !strings.HasPrefix(s[i+2:], "Z")
}

func TestAttackDieBeforeReady(t *testing.T) {
	fds0 := fdCount()
	w := pyWorker(t, "sys.stderr.write('boom\\n'); sys.exit(3)\n")
	within(t, 30*time.Second, "New", func() {
		p, err := pool.New(w, &pool.Options{Size: 2})
		var we *pool.WorkerError
		if err == nil || !errors.As(err, &we) {
			t.Errorf("New: err %v, want *WorkerError", err)
		}
		if p != nil {
			p.Close()
		}
		if we != nil && !strings.Contains(string(we.Stderr), "boom") {
			t.Errorf("stderr %q", we.Stderr)
		}
	})
	checkClean(t, fds0)
}

func TestAttackDieRightAfterReady(t *testing.T)  { attackDieRightAfterReady(t, 2) }
func TestAttackDieRightAfterReady1(t *testing.T) { attackDieRightAfterReady(t, 1) }

// A worker that says ready and exits at once: New must return (an error, or
// a pool whose Do fails) within a bounded time, as its doc promises for a
// worker "that exits ... at start".
func attackDieRightAfterReady(t *testing.T, size int) {
	fds0 := fdCount()
	w := pyWorker(t, "send({'pool':'ready','protocol':1}); sys.exit(4)\n")
	within(t, 60*time.Second, "New+Do", func() {
		t0 := time.Now()
		p, err := pool.New(w, &pool.Options{Size: size, StartTimeout: 2 * time.Second})
		t.Logf("New after %v: %v", time.Since(t0), err)
		if err != nil {
			return
		}
		defer p.Close()
		for i := 0; i < 10; i++ {
			_, err := p.Do(context.Background(), 1)
			if err == nil {
				t.Errorf("Do succeeded on dead worker")
			}
		}
	})
	checkClean(t, fds0)
}

func TestAttackDieMidTask(t *testing.T) {
	fds0 := fdCount()
	p, err := pool.New(atkSleep, &pool.Options{Size: 2})
	if err != nil {
		t.Fatal(err)
	}
	within(t, 30*time.Second, "Do", func() {
		for _, code := range []int{-1, -2} {
			_, err := p.Do(context.Background(), code)
			var we *pool.WorkerError
			if !errors.As(err, &we) {
				t.Errorf("Do(%d): %v, want WorkerError", code, err)
			}
			n, err := p.Do(context.Background(), 5)
			if err != nil || n != 5 {
				t.Errorf("Do after crash: %v %v", n, err)
			}
		}
	})
	p.Close()
	checkClean(t, fds0)
}

func TestAttackDieWhileAnswering(t *testing.T) {
	fds0 := fdCount()
	w := pyWorker(t, `send({'pool':'ready','protocol':1})
m=recv()
os.write(fd,b'{"pool":"result","id":'+str(m["id"]).encode()+b',"val')
os._exit(0)
`)
	p, err := pool.New(w, &pool.Options{Size: 1})
	if err != nil {
		t.Fatal(err)
	}
	within(t, 20*time.Second, "Do", func() {
		_, err := p.Do(context.Background(), 1)
		var we *pool.WorkerError
		if !errors.As(err, &we) {
			t.Errorf("Do: %v want WorkerError", err)
		}
	})
	within(t, 20*time.Second, "Close", func() { p.Close() })
	checkClean(t, fds0)
}

func TestAttackFloodIdle(t *testing.T) {
	fds0 := fdCount()
	w := pyWorker(t, `send({'pool':'ready','protocol':1})
import threading
def flood():
    for i in range(200000):
        send({'junk':i,'pad':'x'*100})
threading.Thread(target=flood,daemon=True).start()
while True:
    m=recv()
    send({'pool':'result','id':m['id'],'value':m['value']*2})
`)
	p, err := pool.New(w, &pool.Options{Size: 1})
	if err != nil {
		t.Fatal(err)
	}
	within(t, 60*time.Second, "Do under flood", func() {
		for i := 0; i < 20; i++ {
			n, err := p.Do(context.Background(), i)
			if err != nil || n != 2*i {
				t.Errorf("Do(%d) = %d, %v", i, n, err)
			}
		}
	})
	within(t, 20*time.Second, "Close", func() { p.Close() })
	checkClean(t, fds0)
}

func TestAttackUnsolicitedResult(t *testing.T) {
	fds0 := fdCount()
	w := pyWorker(t, `send({'pool':'ready','protocol':1})
m=recv()
send({'pool':'result','id':m['id']+1000,'value':1})
time.sleep(100)
`)
	p, err := pool.New(w, &pool.Options{Size: 1})
	if err != nil {
		t.Fatal(err)
	}
	within(t, 20*time.Second, "Do", func() {
		_, err := p.Do(context.Background(), 1)
		if !errors.Is(err, pool.ErrProtocol) {
			t.Errorf("Do: %v, want ErrProtocol", err)
		}
	})
	within(t, 20*time.Second, "Close", func() { p.Close() })
	checkClean(t, fds0)
}

// A result for a task never sent, while idle (before any task).
func TestAttackUnsolicitedResultIdle(t *testing.T) {
	fds0 := fdCount()
	w := pyWorker(t, `send({'pool':'ready','protocol':1})
time.sleep(0.2)
send({'pool':'result','id':1,'value':1})
while True:
    m=recv()
    send({'pool':'result','id':m['id'],'value':m['value']})
`)
	p, err := pool.New(w, &pool.Options{Size: 1})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	within(t, 20*time.Second, "Do", func() {
		// the first worker broke the protocol; its replacement does too, but only after 0.2s
		n, err := p.Do(context.Background(), 3)
		t.Logf("Do after idle break: %v %v stats %+v", n, err, p.Stats())
	})
	within(t, 20*time.Second, "Close", func() { p.Close() })
	checkClean(t, fds0)
}

func TestAttackNeverReads(t *testing.T) {
	fds0 := fdCount()
	w := pyWorker(t, `send({'pool':'ready','protocol':1})
signal.signal(signal.SIGTERM, signal.SIG_IGN)
time.sleep(1000)
`)
	_ = w
	dir := t.TempDir()
	path := filepath.Join(dir, "w.py")
	os.WriteFile(path, []byte(pyHead+"send({'pool':'ready','protocol':1})\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\ntime.sleep(1000)\n"), 0o644)
	sw := pool.Script[string, int](path)
	p, err := pool.New(sw, &pool.Options{Size: 1, Concurrency: 1000, CancelGrace: 200 * time.Millisecond,
		Child: &childproc.Options{ForceKillAfter: 300 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	req := strings.Repeat("y", 1<<20)
	var wg sync.WaitGroup
	var returned atomic.Int64
	for i := 0; i < 64; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			defer cancel()
			_, err := p.Do(ctx, req)
			if err == nil {
				t.Errorf("Do succeeded")
			}
			returned.Add(1)
		}()
	}
	within(t, 20*time.Second, "Do on a worker that never reads", wg.Wait)
	within(t, 20*time.Second, "Close", func() { p.Close() })
	checkClean(t, fds0)
}

func TestAttackHugeResult(t *testing.T) {
	fds0 := fdCount()
	dir := t.TempDir()
	path := filepath.Join(dir, "w.py")
	os.WriteFile(path, []byte(pyHead+`send({'pool':'ready','protocol':1})
while True:
    m=recv()
    os.write(fd,b'{"pool":"result","id":'+str(m["id"]).encode()+b',"value":"'+b'z'*(m['value']<<20)+b'"}\n')
`), 0o644)
	sw := pool.Script[int, string](path)
	p, err := pool.New(sw, &pool.Options{Size: 1})
	if err != nil {
		t.Fatal(err)
	}
	within(t, 60*time.Second, "huge", func() {
		s, err := p.Do(context.Background(), 1)
		if err != nil || len(s) != 1<<20 {
			t.Errorf("1 MiB: len %d err %v", len(s), err)
		}
		_, err = p.Do(context.Background(), 300)
		t.Logf("300 MiB: %v", err)
		if err == nil {
			t.Logf("300 MiB accepted")
		}
		s, err = p.Do(context.Background(), 1)
		if err != nil || len(s) != 1<<20 {
			t.Errorf("after huge: len %d err %v", len(s), err)
		}
	})
	within(t, 20*time.Second, "Close", func() { p.Close() })
	checkClean(t, fds0)
}

func TestAttackClosesChannelStaysAlive(t *testing.T) {
	fds0 := fdCount()
	w := pyWorker(t, `send({'pool':'ready','protocol':1})
signal.signal(signal.SIGTERM, signal.SIG_IGN)
m=recv()
rf.close(); os.close(fd)
time.sleep(1000)
`)
	p, err := pool.New(w, &pool.Options{Size: 1, Child: &childproc.Options{ForceKillAfter: 300 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	within(t, 20*time.Second, "Do", func() {
		_, err := p.Do(context.Background(), 1)
		t.Logf("Do: %v", err)
		if err == nil {
			t.Errorf("Do succeeded")
		}
	})
	within(t, 20*time.Second, "Close", func() { p.Close() })
	checkClean(t, fds0)
}

func TestAttackGrandchildHoldsFdsKillTree(t *testing.T) { attackGrandchild(t, true) }

func TestAttackGrandchildWorkerAliveKillTree(t *testing.T) { attackGrandchild2(t, true, true) }

func attackGrandchild(t *testing.T, tree bool) { attackGrandchild2(t, tree, false) }

func attackGrandchild2(t *testing.T, tree, stay bool) {
	fds0 := fdCount()
	pidfile := filepath.Join(t.TempDir(), "gc")
	w := pyWorker(t, fmt.Sprintf(`send({'pool':'ready','protocol':1})
m=recv()
pid=os.fork()
if pid==0:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    time.sleep(1000); os._exit(0)
open(%q,'a').write(str(pid)+"\n")
if %v:
    send({'pool':'result','id':m['id'],'value':1})
    time.sleep(1000)
os._exit(9)
`, pidfile, map[bool]string{true: "True", false: "False"}[stay]))
	p, err := pool.New(w, &pool.Options{Size: 1, Child: &childproc.Options{KillTree: tree}})
	if err != nil {
		t.Fatal(err)
	}
	within(t, 20*time.Second, "Do", func() {
		_, err := p.Do(context.Background(), 1)
		var we *pool.WorkerError
		if !stay && !errors.As(err, &we) {
			t.Errorf("Do: %v, want WorkerError", err)
		}
	})
	within(t, 20*time.Second, "Close", func() { p.Close() })
	checkClean(t, fds0)
	time.Sleep(500 * time.Millisecond)
	b, _ := os.ReadFile(pidfile)
	for _, s := range strings.Fields(string(b)) {
		pid, _ := strconv.Atoi(s)
		t0 := time.Now()
		for atkAlive(pid) && time.Since(t0) < 8*time.Second {
			time.Sleep(50 * time.Millisecond)
		}
		if !atkAlive(pid) {
			t.Logf("grandchild %d gone %v after Close returned", pid, time.Since(t0)+500*time.Millisecond)
		}
		if atkAlive(pid) {
			t.Errorf("grandchild %d still alive 8.5s after Close", pid)
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

func TestAttackMapAbandon(t *testing.T) {
	fds0 := fdCount()
	p, err := pool.New(atkSleep, &pool.Options{Size: 2})
	if err != nil {
		t.Fatal(err)
	}
	within(t, 20*time.Second, "Map break", func() {
		reqs := func(yield func(int) bool) {
			for i := 0; ; i++ {
				if !yield(10) {
					return
				}
			}
		}
		n := 0
		for _, err := range p.Map(context.Background(), reqs) {
			if err != nil {
				t.Error(err)
			}
			n++
			if n == 5 {
				break
			}
		}
	})
	// slow reader: never read after first
	within(t, 20*time.Second, "Map slow", func() {
		vals := []int{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}
		next := 0
		for v, err := range p.Map(context.Background(), func(y func(int) bool) {
			for _, v := range vals {
				if !y(v) {
					return
				}
			}
		}) {
			if err != nil || v != 1 {
				t.Error(v, err)
			}
			next++
			time.Sleep(50 * time.Millisecond)
		}
		if next != len(vals) {
			t.Errorf("got %d", next)
		}
	})
	st := p.Stats()
	t.Logf("stats %+v", st)
	within(t, 20*time.Second, "Close", func() { p.Close() })
	checkClean(t, fds0)
}

func TestAttackCtxEveryMoment(t *testing.T) {
	fds0 := fdCount()
	p, err := pool.New(atkSleep, &pool.Options{Size: 2, Concurrency: 2, CancelGrace: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var calls, rets atomic.Int64
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 60; i++ {
				d := time.Duration((i*7+g*13)%3000) * time.Microsecond
				ctx, cancel := context.WithTimeout(context.Background(), d)
				calls.Add(1)
				n, err := p.Do(ctx, 2)
				rets.Add(1)
				if err == nil && n != 2 {
					t.Errorf("bad %d", n)
				}
				if err != nil && !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("unexpected err %v", err)
				}
				cancel()
			}
		}(g)
	}
	within(t, 60*time.Second, "cancel storm", wg.Wait)
	if calls.Load() != rets.Load() {
		t.Errorf("calls %d rets %d", calls.Load(), rets.Load())
	}
	within(t, 20*time.Second, "Do after storm", func() {
		n, err := p.Do(context.Background(), 1)
		if err != nil || n != 1 {
			t.Errorf("after storm: %v %v", n, err)
		}
	})
	t.Logf("stats %+v", p.Stats())
	within(t, 20*time.Second, "Close", func() { p.Close() })
	checkClean(t, fds0)
}

func TestAttackCloseRacesDo(t *testing.T) {
	fds0 := fdCount()
	for round := 0; round < 4; round++ {
		p, err := pool.New(atkSleep, &pool.Options{Size: 2, Concurrency: 2, MaxQueue: 8})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var calls, rets atomic.Int64
		for g := 0; g < 40; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				for i := 0; i < 20; i++ {
					calls.Add(1)
					_, err := p.Do(context.Background(), g%5)
					rets.Add(1)
					if err != nil && !errors.Is(err, pool.ErrClosed) {
						t.Errorf("Do: %v", err)
					}
				}
			}(g)
		}
		time.Sleep(time.Duration(round*20) * time.Millisecond)
		var cw sync.WaitGroup
		for c := 0; c < 4; c++ {
			cw.Add(1)
			go func(c int) {
				defer cw.Done()
				if c%2 == 0 {
					p.Close()
				} else {
					ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
					p.Shutdown(ctx)
					cancel()
				}
			}(c)
		}
		within(t, 30*time.Second, "Close/Shutdown race", func() { cw.Wait(); wg.Wait() })
		if calls.Load() != rets.Load() {
			t.Errorf("calls %d rets %d", calls.Load(), rets.Load())
		}
		if _, err := p.Do(context.Background(), 1); !errors.Is(err, pool.ErrClosed) {
			t.Errorf("Do after Close: %v", err)
		}
	}
	checkClean(t, fds0)
}

func TestAttackShutdownWhileWorkerDies(t *testing.T) {
	fds0 := fdCount()
	p, err := pool.New(atkSleep, &pool.Options{Size: 2, Retries: 1})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			v := 200
			if i%2 == 0 {
				v = -1
			}
			_, errs[i] = p.Do(context.Background(), v)
		}(i)
	}
	time.Sleep(50 * time.Millisecond)
	within(t, 30*time.Second, "Shutdown", func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err := p.Shutdown(ctx)
		t.Logf("Shutdown: %v", err)
		wg.Wait()
	})
	for i, e := range errs {
		t.Logf("task %d: %v", i, e)
		if i%2 == 1 && e != nil {
			t.Errorf("task %d (healthy, started before Shutdown) failed: %v", i, e)
		}
	}
	checkClean(t, fds0)
}

func TestAttackFdExhaustion(t *testing.T) {
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &old); err != nil {
		t.Fatal(err)
	}
	p0, err := pool.New(atkSleep, &pool.Options{Size: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer p0.Close()
	n := fdCount()
	lim := old
	lim.Cur = uint64(n + 2)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	restored := false
	restore := func() {
		if !restored {
			syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old)
			restored = true
		}
	}
	defer restore()
	within(t, 60*time.Second, "New under EMFILE", func() {
		p, err := pool.New(atkSleep, &pool.Options{Size: 2, StartTimeout: 5 * time.Second})
		t.Logf("New under EMFILE: %v", err)
		if err == nil {
			t.Errorf("New succeeded with %d fds", lim.Cur)
			p.Close()
		}
	})
	within(t, 60*time.Second, "Do (crash) under EMFILE", func() {
		_, err := p0.Do(context.Background(), -1) // worker dies, replacement can't start
		t.Logf("Do crash under EMFILE: %v", err)
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_, err = p0.Do(ctx, 1)
		t.Logf("Do under EMFILE: %v", err)
	})
	restore()
	within(t, 60*time.Second, "recover", func() {
		deadline := time.Now().Add(20 * time.Second)
		for {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			v, err := p0.Do(ctx, 1)
			cancel()
			if err == nil && v == 1 {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("pool did not recover after limit restored: %v", err)
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		p, err := pool.New(atkSleep, &pool.Options{Size: 2})
		if err != nil {
			t.Errorf("New after restore: %v", err)
			return
		}
		p.Close()
	})
}

func TestAttackLeaksAfterClose(t *testing.T) {
	fds0 := fdCount()
	ign := goleak.IgnoreCurrent()
	for i := 0; i < 3; i++ {
		p, err := pool.New(atkSleep, &pool.Options{Size: 3, Concurrency: 2})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for j := 0; j < 30; j++ {
			wg.Add(1)
			go func(j int) {
				defer wg.Done()
				v := 5
				if j%10 == 0 {
					v = -2
				}
				p.Do(context.Background(), v)
			}(j)
		}
		wg.Wait()
		p.Close()
	}
	checkClean(t, fds0)
	time.Sleep(200 * time.Millisecond)
	if err := goleak.Find(ign, goleak.IgnoreAnyFunction("github.com/childproc/childproc/internal/guardian.reapGuardian")); err != nil {
		t.Error(err)
	}
}

func runtimeStack(b []byte) int { return runtime.Stack(b, true) }
