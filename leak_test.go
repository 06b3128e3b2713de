//go:build linux

package childproc_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
	"golang.org/x/sys/unix"

	"github.com/childproc/childproc"
)

// Leaks: fds, goroutines, zombies and child processes after a few hundred
// mixed cycles, and fds leaking into children. Not parallel: they count
// what this whole process holds.

// lastingGoroutines are the goroutines childproc keeps for the life of the
// process (the guardian's reaper).
var lastingGoroutines = []goleak.Option{
	goleak.IgnoreAnyFunction("github.com/childproc/childproc/internal/guardian.reapGuardian"),
}

// leakCycle runs one child whose outcome is picked by i.
func leakCycle(i int) error {
	ctx := context.Background()
	quiet := func() *childproc.Options {
		return &childproc.Options{Stdio: []any{childproc.Ignore, childproc.Ignore, childproc.Ignore}}
	}
	expect := func(err error, ok bool, what string) error {
		if !ok {
			return fmt.Errorf("cycle %d (%s): unexpected result %v", i, what, err)
		}
		return nil
	}
	switch i % 22 {
	case 0: // success, output read
		c, err := childproc.Spawn(ctx, "echo", []string{"hi"}, nil)
		if err != nil {
			return err
		}
		b, _ := io.ReadAll(c.Stdout)
		err = c.Wait()
		return expect(err, err == nil && string(b) == "hi\n", "success")
	case 1: // non-zero exit
		c, err := childproc.Exec(ctx, "echo out; echo err >&2; exit 3", nil)
		if err != nil {
			return err
		}
		_, _, err = c.Output()
		return expect(err, err != nil, "exit 3")
	case 2: // death by a signal
		c, err := childproc.Spawn(ctx, "sh", []string{"-c", "kill -KILL $$"}, quiet())
		if err != nil {
			return err
		}
		err = c.Wait()
		return expect(err, c.SignalCode() == "SIGKILL", "signal")
	case 3: // timeout
		o := quiet()
		o.Timeout = 10 * time.Millisecond
		c, err := childproc.Spawn(ctx, "sleep", []string{"5"}, o)
		if err != nil {
			return err
		}
		err = c.Wait()
		return expect(err, err != nil && asErr(err).TimedOut, "timeout")
	case 4: // abort
		actx, cancel := context.WithCancel(ctx)
		defer cancel()
		c, err := childproc.ExecFile(actx, "sleep", []string{"5"}, nil)
		if err != nil {
			return err
		}
		time.AfterFunc(5*time.Millisecond, cancel)
		_, _, err = c.Output()
		return expect(err, err != nil && asErr(err).Code == childproc.CodeAbort, "abort")
	case 5: // maxBuffer
		c, err := childproc.Exec(ctx, "head -c 100000 /dev/zero; exec sleep 5", &childproc.Options{MaxBuffer: 1000})
		if err != nil {
			return err
		}
		out, _, err := c.Output()
		return expect(err, err != nil && asErr(err).Code == childproc.CodeMaxBuffer && len(out) == 1000, "maxBuffer")
	case 6: // spawn failure
		_, err := childproc.Spawn(ctx, "childproc-no-such-program", nil, nil)
		return expect(err, err != nil && asErr(err).Code == "ENOENT", "ENOENT")
	case 7: // never waited for, output never read
		_, err := childproc.Spawn(ctx, "echo", []string{"nobody reads this"}, nil)
		return err
	case 8: // waited for, output never read
		c, err := childproc.Spawn(ctx, "sh", []string{"-c", "echo out; echo err >&2; echo three >&3"},
			&childproc.Options{Stdio: []any{nil, nil, nil, childproc.Pipe}})
		if err != nil {
			return err
		}
		return c.Wait()
	case 9: // sync, with input and an extra pipe
		r := childproc.SpawnSync("sh", []string{"-c", "cat; echo x >&3; exit 4"}, &childproc.Options{Input: []byte("in"),
			Stdio: []any{nil, nil, nil, childproc.Pipe}})
		return expect(r.Err, r.Status == 4 && string(r.Stdout) == "in" && string(r.Output[3]) == "x\n", "sync")
	case 10: // ExecSync failing, timing out
		_, err := childproc.ExecSync("exit 2", &childproc.Options{Stdio: []any{nil, nil, nil}})
		if err == nil {
			return fmt.Errorf("cycle %d: exit 2 succeeded", i)
		}
		_, err = childproc.ExecFileSync("sleep", []string{"5"}, &childproc.Options{Timeout: 10 * time.Millisecond})
		return expect(err, err != nil && asErr(err).Code == childproc.CodeTimedOut, "sync timeout")
	case 11: // Reader and Writers, with copies
		var out, three bytes.Buffer
		c, err := childproc.Spawn(ctx, "sh", []string{"-c", "cat; echo 3 >&3"},
			&childproc.Options{Stdio: []any{strings.NewReader("abc"), &out, childproc.Ignore, &three}})
		if err != nil {
			return err
		}
		err = c.Wait()
		return expect(err, err == nil && out.String() == "abc" && three.String() == "3\n", "copies")
	case 12: // a grandchild holds stdout; WaitDelay cuts it
		c, err := childproc.Spawn(ctx, "sh", []string{"-c", "sleep 5 & echo $!"},
			&childproc.Options{Stdio: []any{childproc.Ignore, childproc.Pipe, childproc.Ignore}, WaitDelay: 10 * time.Millisecond})
		if err != nil {
			return err
		}
		line, _ := bufio.NewReader(c.Stdout).ReadString('\n')
		err = c.Wait()
		if pid, perr := strconv.Atoi(strings.TrimSpace(line)); perr == nil {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		return expect(err, err != nil && asErr(err).Code == childproc.CodeWaitDelay, "WaitDelay")
	case 13: // stdin never closed; the child is killed
		c, err := childproc.Spawn(ctx, "cat", nil, nil)
		if err != nil {
			return err
		}
		c.Stdin.Write([]byte("x"))
		c.Kill(nil)
		err = c.Wait()
		return expect(err, c.SignalCode() == "SIGTERM", "kill")
	case 14: // stdout closed early
		c, err := childproc.Spawn(ctx, "yes", nil, &childproc.Options{Stdio: []any{childproc.Ignore, childproc.Pipe, childproc.Ignore}})
		if err != nil {
			return err
		}
		c.Stdout.Read(make([]byte, 10))
		c.Stdout.Close()
		c.Wait()
		return nil
	case 15: // detached, killed
		c, err := childproc.Spawn(ctx, "sleep", []string{"5"}, &childproc.Options{Detached: true, Stdio: []any{childproc.Ignore, childproc.Ignore, childproc.Ignore}})
		if err != nil {
			return err
		}
		c.Kill(syscall.SIGKILL)
		c.Wait()
		return nil
	case 16: // Exec with Input
		c, err := childproc.Exec(ctx, "wc -c", &childproc.Options{Input: make([]byte, 100000)})
		if err != nil {
			return err
		}
		out, _, err := c.Output()
		return expect(err, err == nil && strings.TrimSpace(string(out)) == "100000", "input")
	case 17: // bad input
		_, err := childproc.Spawn(ctx, "true", nil, &childproc.Options{Timeout: -1})
		return expect(err, err != nil, "bad input")
	case 18: // resource limits, through the shim
		r := childproc.SpawnSync("sh", []string{"-c", "ulimit -n"}, &childproc.Options{Limits: &childproc.Limits{OpenFiles: 64}})
		return expect(r.Err, r.Err == nil && strings.TrimSpace(string(r.Stdout)) == "64", "limits")
	case 19: // E2BIG, after a fork
		_, err := childproc.Spawn(ctx, "true", []string{strings.Repeat("x", 200*1024)}, nil)
		return expect(err, err != nil && asErr(err).Code == "E2BIG", "E2BIG")
	case 20: // a forked entry that fails: its handoff carries the error
		c, err := childproc.ForkEntry(ctx, failEntry, nil, &childproc.Options{Stdio: []any{childproc.Ignore, childproc.Ignore, childproc.Ignore, childproc.IPC}})
		if err != nil {
			return err
		}
		var ee *childproc.EntryError
		err = c.Wait()
		return expect(err, errors.As(err, &ee), "entry error")
	case 21: // a forked entry through the shim: two handoffs
		c, err := childproc.ForkEntry(ctx, argsEntry, nil, &childproc.Options{Limits: &childproc.Limits{OpenFiles: 64}})
		if err != nil {
			return err
		}
		err = c.Wait()
		return expect(err, err == nil, "entry with limits")
	}
	return nil
}

func TestLeakMixedCycles(t *testing.T) {
	n := 400
	if testing.Short() {
		n = 100
	}
	if err := leakCycle(0); err != nil { // start what childproc keeps for good
		t.Fatal(err)
	}
	fdsBefore, kidsBefore := openFds(t), ourChildren()
	ignore := append([]goleak.Option{goleak.IgnoreCurrent()}, lastingGoroutines...)

	var wg sync.WaitGroup
	var failures atomic.Int32
	const workers = 4
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				if err := leakCycle(i); err != nil {
					if failures.Add(1) < 10 {
						t.Error(err)
					}
				}
			}
		}()
	}
	wg.Wait()

	// Children nobody waited for end on their own; give them time.
	var fds []string
	var zombies, kids []int
	var gerr error
	ok := eventually(func() bool {
		fds = newFds(fdsBefore, openFds(t))
		zombies = ourZombies()
		kids = newChildren(kidsBefore, ourChildren())
		if len(fds) > 0 || len(zombies) > 0 || len(kids) > 0 {
			return false
		}
		gerr = goleak.Find(ignore...)
		return gerr == nil
	})
	if !ok {
		t.Fatalf("after %d cycles: new fds %v, zombies %v, children %v, goroutines: %v", n, fds, zombies, kids, gerr)
	}
}

var lsLine = regexp.MustCompile(`(\d+) -> (.*)$`)

// childFds parses `ls -l /proc/self/fd` and returns the fds of the ls
// process, without the one it opened to list the directory.
func childFds(t *testing.T, listing string) []int {
	t.Helper()
	var fds []int
	dirFd := regexp.MustCompile(`^/proc/\d+/fd$`)
	for _, line := range strings.Split(listing, "\n") {
		m := lsLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		if dirFd.MatchString(m[2]) {
			continue
		}
		fd, _ := strconv.Atoi(m[1])
		fds = append(fds, fd)
	}
	sort.Ints(fds)
	if len(fds) == 0 {
		t.Fatalf("no fds in listing %q", listing)
	}
	return fds
}

// A child inherits its stdio and the declared extra entries, and no other
// fd of the parent: not the parent's files, not the pipes of other
// children being started at the same moment from other goroutines, not
// even an fd the parent holds without FD_CLOEXEC.
func TestChildInheritsOnlyItsStdio(t *testing.T) {
	// The parent holds extra files of its own.
	dir := t.TempDir()
	for i := range 5 {
		f, err := os.Create(dir + "/held" + strconv.Itoa(i))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	extraFile, err := os.CreateTemp(dir, "extra")
	if err != nil {
		t.Fatal(err)
	}
	defer extraFile.Close()

	// And an fd without FD_CLOEXEC, as a parent may inherit from whoever
	// started it, or get from C code: childproc must not pass it on.
	if err := unix.CloseRange(^uint(0)-1, ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err != nil {
		t.Skipf("no close_range(2) here (%v): childproc cannot keep stray fds out of children", err)
	}
	stray, err := unix.Dup(int(extraFile.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(stray)
	clearCloexec := func() {
		if _, err := unix.FcntlInt(uintptr(stray), unix.F_SETFD, 0); err != nil {
			t.Fatal(err)
		}
	}

	// Other goroutines start children with pipes all the while.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				c, err := childproc.Spawn(context.Background(), "cat", nil, &childproc.Options{Stdio: []any{nil, nil, nil, childproc.Pipe, childproc.Pipe}})
				if err != nil {
					t.Error(err)
					return
				}
				c.Stdin.Close()
				c.Wait()
			}
		}()
	}
	defer func() { close(stop); wg.Wait() }()

	run := func(name string, want []int, start func(stdio []any) (string, error)) {
		t.Helper()
		stdio := []any{childproc.Ignore, childproc.Pipe, childproc.Ignore}
		if len(want) > 3 {
			stdio = append(stdio, childproc.Pipe, extraFile, &bytes.Buffer{})
		}
		clearCloexec()
		listing, err := start(stdio)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := childFds(t, listing); !slices.Equal(got, want) {
			t.Fatalf("%s: the child has fds %v, want %v (%d is our stray fd)\n%s", name, got, want, stray, listing)
		}
	}
	spawn := func(opts *childproc.Options) func([]any) (string, error) {
		return func(stdio []any) (string, error) {
			o := *opts
			o.Stdio = stdio
			c, err := childproc.Spawn(context.Background(), "ls", []string{"-l", "/proc/self/fd"}, &o)
			if err != nil {
				return "", err
			}
			b, _ := io.ReadAll(c.Stdout)
			return string(b), c.Wait()
		}
	}
	for i := range 25 {
		run("spawn", []int{0, 1, 2}, spawn(&childproc.Options{}))
		run("spawn with extras", []int{0, 1, 2, 3, 4, 5}, spawn(&childproc.Options{}))
		if i%5 == 0 {
			run("detached", []int{0, 1, 2, 3, 4, 5}, spawn(&childproc.Options{Detached: true}))
			run("with limits (shim)", []int{0, 1, 2, 3, 4, 5}, spawn(&childproc.Options{Limits: &childproc.Limits{OpenFiles: 100}}))
			run("kill tree", []int{0, 1, 2}, spawn(&childproc.Options{KillTree: true}))
			run("spawnSync", []int{0, 1, 2, 3, 4, 5}, func(stdio []any) (string, error) {
				r := childproc.SpawnSync("ls", []string{"-l", "/proc/self/fd"}, &childproc.Options{Stdio: stdio})
				return string(r.Stdout), r.Err
			})
			run("exec", []int{0, 1, 2}, func([]any) (string, error) {
				c, err := childproc.Exec(context.Background(), "exec ls -l /proc/self/fd", nil)
				if err != nil {
					return "", err
				}
				out, _, err := c.Output()
				return string(out), err
			})
		}
	}
}

// A child's ends of its pipes are closed in the parent once it has
// started: the parent holds exactly its own ends.
func TestParentHoldsOnlyItsEnds(t *testing.T) {
	if err := leakCycle(0); err != nil {
		t.Fatal(err)
	}
	before := openFds(t)
	c, err := childproc.Spawn(context.Background(), "cat", nil, &childproc.Options{Stdio: []any{nil, nil, nil, childproc.Pipe, childproc.Ignore, &bytes.Buffer{}}})
	if err != nil {
		t.Fatal(err)
	}
	during := newFds(before, openFds(t))
	// stdin, stdout, stderr, the socket at 3 and the read end for the
	// Buffer at 5 (and the pidfd Go may hold for the process, which is not
	// counted).
	var pipes, sockets int
	for _, fd := range during {
		switch {
		case strings.Contains(fd, "pipe:"):
			pipes++
		case strings.Contains(fd, "socket:"):
			sockets++
		}
	}
	if pipes != 4 || sockets != 1 {
		t.Errorf("parent holds %v while the child runs; want 4 pipes and 1 socket", during)
	}
	c.Stdin.Close()
	if err := waitFor(t, c); err != nil {
		t.Fatal(err)
	}
	// After Wait, the streams hold nothing open (drained output stays
	// readable from memory).
	if !eventually(func() bool { return len(newFds(before, openFds(t))) == 0 }) {
		t.Fatalf("after Wait the parent still holds %v", newFds(before, openFds(t)))
	}
	if _, err := c.Stdout.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("read after Wait: %v", err)
	}
}
