package childproc

import (
	"bufio"
	"math"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// The guardian makes KillTree children's trees die with the parent, even
// a SIGKILLed one, which runs no code of its own. It is one process per
// parent, started with the first KillTree child: a re-execution of this
// binary in its own process group (so terminal signals pass it by), that
// reads the parent's registrations from a pipe. When the pipe reports EOF
// the parent is gone, however it went; the guardian then stops every tree
// still registered (KillSignal, SIGKILL after the delay) and exits. Cost:
// one process (a few MiB) per parent, and one pipe write per KillTree child.
const guardianEnv = "CHILDPROC_GUARDIAN"

var guardian struct {
	once sync.Once
	mu   sync.Mutex
	w    *os.File
	err  error
}

func init() {
	if os.Getenv(guardianEnv) == "1" {
		runGuardian()
	}
}

// guardTree registers a tree with the guardian, starting it if needed.
func guardTree(pgid int, marker string, sig syscall.Signal, delay time.Duration) error {
	guardian.once.Do(startGuardian)
	if guardian.err != nil {
		return guardian.err
	}
	line := guarded{pgid, sig, delay, marker}.line()
	guardian.mu.Lock()
	defer guardian.mu.Unlock()
	_, err := guardian.w.WriteString(line)
	return err
}

// unguardTree tells the guardian a tree is gone.
func unguardTree(pgid int) {
	guardian.mu.Lock()
	defer guardian.mu.Unlock()
	if guardian.w != nil {
		guardian.w.WriteString(unguardLine(pgid))
	}
}

func startGuardian() {
	r, w, err := os.Pipe()
	if err != nil {
		guardian.err = err
		return
	}
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		r.Close()
		w.Close()
		guardian.err = err
		return
	}
	env := append(os.Environ(), guardianEnv+"=1", guardianEnv+"_PARENT="+strconv.Itoa(os.Getpid()))
	p, err := os.StartProcess("/proc/self/exe", []string{"childproc-guardian"}, &os.ProcAttr{
		Env:   env,
		Files: []*os.File{r, null, null},
		Sys:   &syscall.SysProcAttr{Setpgid: true},
	})
	r.Close()
	null.Close()
	if err != nil {
		w.Close()
		guardian.err = err
		return
	}
	// The guardian outlives us on purpose; its exit is reaped by init.
	go reapGuardian(p)
	guardian.w = w
}

// guarded is a tree the guardian stops when the parent is gone.
type guarded struct {
	pgid   int
	sig    syscall.Signal
	delay  time.Duration // kept in whole milliseconds
	marker string
}

// line is t's registration, "+<pgid> <signal> <delay ms> <marker>\n".
func (t guarded) line() string {
	return "+" + strconv.Itoa(t.pgid) + " " + strconv.Itoa(int(t.sig)) + " " + strconv.FormatInt(int64(t.delay/time.Millisecond), 10) + " " + t.marker + "\n"
}

// unguardLine withdraws the registration of pgid: "-<pgid>\n".
func unguardLine(pgid int) string { return "-" + strconv.Itoa(pgid) + "\n" }

// parseGuardLine reads one line from the parent (without its newline): a
// registration (add) or a withdrawal (t has only pgid). ok is false for
// anything else, or a pgid that is not a process group of its own.
func parseGuardLine(line string) (t guarded, add, ok bool) {
	if rest, found := strings.CutPrefix(line, "-"); found {
		pgid, err := strconv.Atoi(rest)
		return guarded{pgid: pgid}, false, err == nil && pgid > 1
	}
	rest, found := strings.CutPrefix(line, "+")
	if !found {
		return guarded{}, false, false
	}
	f := strings.SplitN(rest, " ", 4)
	if len(f) != 4 {
		return guarded{}, false, false
	}
	pgid, err1 := strconv.Atoi(f[0])
	sig, err2 := strconv.Atoi(f[1])
	ms, err3 := strconv.ParseInt(f[2], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || pgid <= 1 || sig <= 0 || sig > 64 || ms < 0 || ms > math.MaxInt64/int64(time.Millisecond) {
		return guarded{}, false, false
	}
	return guarded{pgid, syscall.Signal(sig), time.Duration(ms) * time.Millisecond, f[3]}, true, true
}

// runGuardian is the guardian's main; it never returns.
func runGuardian() {
	signal.Ignore(syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGPIPE)
	trees := map[int]guarded{}
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		t, add, ok := parseGuardLine(sc.Text())
		switch {
		case !ok:
		case add:
			trees[t.pgid] = t
		default:
			delete(trees, t.pgid)
		}
	}
	// The parent is gone: stop what is left of every tree. Its markers all
	// start with "<parent pid>.", so one pass over /proc finds every
	// process that carries one.
	prefix := strconv.Itoa(os.Getppid()) + "."
	if p, ok := os.LookupEnv(guardianEnv + "_PARENT"); ok {
		prefix = p + "."
	}
	stopAll := func(sig func(t guarded) syscall.Signal) {
		for _, t := range trees {
			syscall.Kill(-t.pgid, sig(t))
		}
		for _, p := range treeMembers(0, 0, prefix) {
			syscall.Kill(p, sig(guarded{sig: syscall.SIGTERM}))
		}
	}
	stopAll(func(t guarded) syscall.Signal { return t.sig })
	var wait time.Duration
	for _, t := range trees {
		wait = max(wait, t.delay)
	}
	for deadline := time.Now().Add(wait); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		alive := len(treeMembers(0, 0, prefix)) > 0
		for _, t := range trees {
			alive = alive || groupAlive(t.pgid)
		}
		if !alive {
			break
		}
	}
	stopAll(func(guarded) syscall.Signal { return syscall.SIGKILL })
	os.Exit(0)
}

// reapGuardian waits for the guardian, which exits only after the parent.
func reapGuardian(p *os.Process) { p.Wait() }
