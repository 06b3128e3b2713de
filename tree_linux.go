package childproc

import (
	"bufio"
	"bytes"
	"math"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// A KillTree child leads its own process group, and carries a marker in
// its environment (treeEnv=<parent pid>.<n>) that its descendants inherit.
// Its tree is then: the group, the descendants found by walking /proc's
// parent links from the child, and every process whose environment holds
// the marker, which finds even descendants that changed group and were
// orphaned. Descendants that both left the group and cleared their
// environment after being orphaned cannot be found.

// treeMembers returns the pids of the tree rooted at pid (pid excluded):
// descendants by parent link, members of group pgid, and the processes
// whose environment holds the tree marker (and their descendants). A
// marker ending in "." matches every marker that starts with it.
func treeMembers(pid, pgid int, marker string) []int {
	procs := readProcs()
	children := map[int][]int{}
	for _, p := range procs {
		children[p.ppid] = append(children[p.ppid], p.pid)
	}
	found := map[int]bool{}
	var queue []int
	if pid > 1 {
		queue = append(queue, pid)
	}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		for _, k := range children[n] {
			if !found[k] {
				found[k] = true
				queue = append(queue, k)
			}
		}
	}
	needle := []byte(treeEnv + "=" + marker)
	if !strings.HasSuffix(marker, ".") {
		needle = append(needle, 0)
	}
	self := os.Getpid()
	for _, p := range procs {
		if found[p.pid] || p.pid == pid || p.pid == self {
			continue
		}
		if p.pgid == pgid && pgid > 1 {
			found[p.pid] = true
			continue
		}
		if marker != "" && hasMarker(p.pid, needle) {
			found[p.pid] = true
			// Its own descendants belong to the tree too.
			for q := []int{p.pid}; len(q) > 0; q = q[1:] {
				for _, k := range children[q[0]] {
					if !found[k] {
						found[k] = true
						q = append(q, k)
					}
				}
			}
		}
	}
	delete(found, pid)
	out := make([]int, 0, len(found))
	for p := range found {
		if p > 1 && p != self {
			out = append(out, p)
		}
	}
	return out
}

type procInfo struct{ pid, ppid, pgid int }

// readProcs lists the processes in /proc with their parent and group.
func readProcs() []procInfo {
	d, err := os.Open("/proc")
	if err != nil {
		return nil
	}
	names, _ := d.Readdirnames(-1)
	d.Close()
	procs := make([]procInfo, 0, len(names))
	for _, name := range names {
		pid, err := strconv.Atoi(name)
		if err != nil {
			continue
		}
		if p, ok := readProc(pid); ok {
			procs = append(procs, p)
		}
	}
	return procs
}

// readProc reads the parent and group of a live (not zombie) process.
func readProc(pid int) (procInfo, bool) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procInfo{}, false
	}
	// pid (comm) state ppid pgrp ...: comm may hold spaces and parens.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return procInfo{}, false
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 3 || f[0] == "Z" {
		return procInfo{}, false
	}
	ppid, _ := strconv.Atoi(f[1])
	pgid, _ := strconv.Atoi(f[2])
	return procInfo{pid, ppid, pgid}, true
}

// hasMarker reports whether the environment of pid holds needle, the
// start of an entry ("KEY=value\x00", or a prefix "KEY=val").
func hasMarker(pid int, needle []byte) bool {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
	if err != nil {
		return false
	}
	if bytes.HasPrefix(data, needle) {
		return true
	}
	return bytes.Contains(data, append([]byte{0}, needle...))
}

// killTree sends sig to group pgid and to every member of the tree,
// twice over to catch processes forked meanwhile. It reports whether any
// process got the signal. Members are signalled through a pidfd opened
// before their membership is checked again, so a pid that was reused by
// an unrelated process between the scan and the signal is never hit.
func killTree(pid, pgid int, marker string, sig syscall.Signal) bool {
	any := false
	for round := 0; round < 2; round++ {
		if pgid > 1 && syscall.Kill(-pgid, sig) == nil {
			any = true
		}
		members := treeMembers(pid, pgid, marker)
		set := make(map[int]bool, len(members)+1)
		set[pid] = true
		for _, p := range members {
			set[p] = true
		}
		for _, p := range members {
			if signalMember(p, pgid, marker, set, sig) {
				any = true
			}
		}
		if len(members) == 0 {
			break
		}
	}
	return any
}

// signalMember signals p through a pidfd if, once the pidfd pins it, p
// still belongs to the tree: in group pgid, carrying the marker, or the
// child of a member.
func signalMember(p, pgid int, marker string, members map[int]bool, sig syscall.Signal) bool {
	fd, err := unix.PidfdOpen(p, 0)
	if err != nil {
		// No pidfd (an old kernel): the bare pid is all there is.
		return err != unix.ESRCH && syscall.Kill(p, sig) == nil
	}
	defer unix.Close(fd)
	info, ok := readProc(p)
	needle := []byte(treeEnv + "=" + marker)
	if !strings.HasSuffix(marker, ".") {
		needle = append(needle, 0)
	}
	if !ok || !(pgid > 1 && info.pgid == pgid || members[info.ppid] || marker != "" && hasMarker(p, needle)) {
		return false
	}
	return unix.PidfdSendSignal(fd, sig, nil, 0) == nil
}

// groupAlive reports whether process group pgid has a member left.
func groupAlive(pgid int) bool { return pgid > 1 && syscall.Kill(-pgid, 0) == nil }

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
