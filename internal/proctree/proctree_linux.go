package proctree

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// userHZ is the unit of the start times in /proc/<pid>/stat: clock ticks
// per second (USER_HZ, 100 on every architecture Go runs on).
const userHZ = 100

// AwaitExit blocks until the child pid has ended, without reaping it,
// and reports whether it saw the end (false if pid is not a child to
// wait for).
func AwaitExit(pid int) bool {
	var info unix.Siginfo
	for {
		err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if err != unix.EINTR {
			return err == nil
		}
	}
}

// ClockTick returns the clock tick (since boot) that is running now, in
// the unit of the start times in /proc.
func ClockTick() uint64 {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts) != nil {
		return 0
	}
	return uint64(ts.Nano()) / (1e9 / userHZ)
}

// Signal sends sig to members, whose pidfds it closes, and, on a kernel
// without pidfds, to the group while the child is not reaped. It returns how many got the signal,
// counting the group as one.
func (t Tree) Signal(members []Member, sig syscall.Signal) int {
	n := 0
	if t.Leader != 0 && t.Pgid > 1 && !pidfdsWork() && syscall.Kill(-t.Pgid, sig) == nil {
		n++ // without pidfds, members are never found: the group is all there is
	}
	for _, m := range members {
		if unix.PidfdSendSignal(m.Fd, sig, nil, 0) == nil {
			n++
		}
		unix.Close(m.Fd)
	}
	return n
}

// pidfdsWork reports whether this kernel has pidfds (Linux 5.3): then
// every member of the child's group is among the members found, and
// signalling the group as well would deliver sig to them (and to the
// child) twice.
var pidfdsWork = sync.OnceValue(func() bool {
	fd, err := unix.PidfdOpen(os.Getpid(), 0)
	if err == nil {
		unix.Close(fd)
	}
	return err == nil
})

// Find returns the members of t other than the child, each checked
// through a pidfd as the comment at the top of this file says. The
// caller closes their pidfds.
func (t Tree) Find() []Member {
	if t.empty() {
		return nil
	}
	return FindEach([]Tree{t})[0]
}

// FindEach is Find for several trees with one look at /proc, each
// environment read once: its i-th result holds the members of trees[i].
// A process may be a member of more than one tree.
func FindEach(trees []Tree) [][]Member {
	found := make([][]Member, len(trees))
	procs := ReadProcs()
	children := childrenOf(procs)
	marks := marksOf(procs, trees)
	for i, t := range trees {
		if !t.empty() {
			found[i] = t.find(procs, children, marks[i])
		}
	}
	return found
}

// empty reports whether t gives nothing to start from: a reaped child
// that shared our group.
func (t Tree) empty() bool { return t.Leader <= 1 && t.Pgid <= 1 && t.Tag.marker == "" }

// find returns the members of t among procs, given the processes that
// carry its marker.
func (t Tree) find(procs []Proc, children map[int][]int, marked map[int]bool) []Member {
	f := finder{Tree: t, needle: markerNeedle(t.Tag.marker), held: map[int]int{}, self: os.Getpid()}
	if t.Leader > 1 {
		f.held[t.Leader] = -1 // held by not being reaped
		if t.LeaderFd > 0 {
			f.held[t.Leader] = t.LeaderFd // while its pidfd says so
		}
	}
	var queue []int
	for _, p := range procs {
		if t.Pgid > 1 && p.Pgid == t.Pgid || marked[p.Pid] {
			queue = append(queue, p.Pid)
		}
	}
	if t.Leader > 1 {
		queue = append(queue, children[t.Leader]...)
	}
	f.walk(queue, children)
	delete(f.held, t.Leader)
	return f.members()
}

// marksOf returns, for each of trees, the processes of procs whose
// environment carries its marker, reading each environment once.
func marksOf(procs []Proc, trees []Tree) []map[int]bool {
	marks := make([]map[int]bool, len(trees))
	needles := make([][]byte, len(trees))
	wanted := false
	for i, t := range trees {
		needles[i], marks[i] = markerNeedle(t.Tag.marker), map[int]bool{}
		wanted = wanted || needles[i] != nil
	}
	if !wanted {
		return marks
	}
	for _, p := range procs {
		env := environ(p.Pid)
		for i, needle := range needles {
			if needle != nil && hasEntry(env, needle) {
				marks[i][p.Pid] = true
			}
		}
	}
	return marks
}

// Descendants returns the processes that h's members started and those
// they started in turn, each checked through a pidfd as Find checks a
// process whose parent is a member (h's members not reaped once the link
// was read); h's members themselves are left out. The caller closes
// their pidfds.
func (h *Hold) Descendants() []Member {
	if len(h.held) == 0 {
		return nil
	}
	children := childrenOf(ReadProcs())
	f := finder{held: map[int]int{}, self: os.Getpid()}
	var queue []int
	for _, m := range h.held {
		f.held[m.Pid] = m.Fd
		queue = append(queue, children[m.Pid]...)
	}
	f.walk(queue, children)
	for _, m := range h.held {
		delete(f.held, m.Pid)
	}
	return f.members()
}

// childrenOf maps each pid of procs' parents to its children.
func childrenOf(procs []Proc) map[int][]int {
	children := map[int][]int{}
	for _, p := range procs {
		children[p.Ppid] = append(children[p.Ppid], p.Pid)
	}
	return children
}

// walk checks the candidates in queue, and the children of each that
// belongs.
func (f *finder) walk(queue []int, children map[int][]int) {
	for ; len(queue) > 0; queue = queue[1:] {
		if p := queue[0]; f.check(p) {
			queue = append(queue, children[p]...)
		}
	}
}

// members returns what f found, with the pidfds it holds of them.
func (f *finder) members() []Member {
	members := make([]Member, 0, len(f.held))
	for pid, fd := range f.held {
		members = append(members, Member{pid, fd})
	}
	return members
}

// A finder checks candidates for one tree.
type finder struct {
	Tree
	needle []byte      // the marker entry, or nil
	held   map[int]int // the members found so far: pid -> pidfd
	self   int
}

// check opens a pidfd for p and keeps it in f.held if p belongs to the
// tree; it reports whether p is a member.
func (f *finder) check(p int) bool {
	if _, ok := f.held[p]; ok || p <= 1 || p == f.self {
		return false
	}
	fd, err := unix.PidfdOpen(p, 0)
	if err != nil {
		return false // gone, or no pidfds (Linux < 5.3): never signalled
	}
	if info, ok := ReadProc(p); ok && f.belongs(info) && NotReaped(fd) {
		f.held[p] = fd
		return true
	}
	unix.Close(fd)
	return false
}

// belongs reports whether the process read as info is part of the tree.
func (f *finder) belongs(info Proc) bool {
	if f.Pgid > 1 && info.Pgid == f.Pgid && (f.leaderHeld() || info.Start < f.ReapTick) {
		return true
	}
	if fd, ok := f.held[info.Ppid]; ok && (fd < 0 || NotReaped(fd)) {
		return true
	}
	return f.needle != nil && hasMarker(info.Pid, f.needle)
}

// leaderHeld reports whether the child is known not to be reaped: the
// caller holds it so, or its pidfd says so now.
func (f *finder) leaderHeld() bool {
	return f.Leader != 0 && (f.LeaderFd == 0 || NotReaped(f.LeaderFd))
}

// NotReaped reports whether the process of pidfd fd has not been reaped
// (it may have ended): until then its pid cannot have been reused.
func NotReaped(fd int) bool { return unix.PidfdSendSignal(fd, 0, nil, 0) != unix.ESRCH }

// markerNeedle returns the environment entry that carries marker, or nil
// for no marker. A marker ending in "." is a prefix of markers.
func markerNeedle(marker string) []byte {
	if marker == "" {
		return nil
	}
	needle := []byte(EnvKey + "=" + marker)
	if !strings.HasSuffix(marker, ".") {
		needle = append(needle, 0)
	}
	return needle
}

// Proc is a process as /proc shows it.
type Proc struct {
	Pid, Ppid, Pgid int
	Start           uint64 // clock ticks after boot
}

// ReadProcs lists the processes in /proc with their parent and group.
func ReadProcs() []Proc {
	pids := Pids()
	procs := make([]Proc, 0, len(pids))
	for _, pid := range pids {
		if p, ok := ReadProc(pid); ok {
			procs = append(procs, p)
		}
	}
	return procs
}

// Pids lists the processes in /proc by pid, zombies included.
func Pids() []int {
	d, err := os.Open("/proc")
	if err != nil {
		return nil
	}
	names, _ := d.Readdirnames(-1)
	d.Close()
	pids := make([]int, 0, len(names))
	for _, name := range names {
		if pid, err := strconv.Atoi(name); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// ReadProc reads the parent, group and start time of a live (not zombie)
// process.
func ReadProc(pid int) (Proc, bool) {
	f := statFields("/proc/" + strconv.Itoa(pid))
	if len(f) < 20 || f[0] == "Z" {
		return Proc{}, false
	}
	ppid, _ := strconv.Atoi(f[1])
	pgid, _ := strconv.Atoi(f[2])
	start, err := strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return Proc{}, false
	}
	return Proc{pid, ppid, pgid, start}, true
}

// statFields returns the fields of /proc/<pid>/stat in dir from the
// third on (f[0] is the state), or nil: pid (comm) state ppid pgrp
// session tty_nr tpgid flags minflt cminflt majflt cmajflt utime stime
// cutime cstime priority nice num_threads itrealvalue starttime ...,
// where comm may hold spaces and parens.
func statFields(dir string) []string {
	data, err := os.ReadFile(dir + "/stat")
	if err != nil {
		return nil
	}
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(string(data[i+1:]))
}

// hasMarker reports whether the environment of pid holds needle, the
// start of an entry ("KEY=value\x00", or a prefix "KEY=val").
func hasMarker(pid int, needle []byte) bool { return hasEntry(environ(pid), needle) }

// environ returns the environment of pid as /proc shows it, or nil.
// While a process executes a new program its environment reads empty
// until the kernel has set up the new one: environ then waits for the
// exec to end, for at most execWait.
func environ(pid int) []byte {
	env, _ := environErr(pid)
	return env
}

// environErr is environ that also returns why the environment could not
// be read.
func environErr(pid int) ([]byte, error) {
	dir := "/proc/" + strconv.Itoa(pid)
	deadline := time.Now().Add(execWait)
	inPlace := 0 // empty reads in a row of an environment in place
	for {
		env, err := readEnviron(dir)
		if len(env) > 0 || err != nil {
			return env, err
		}
		again, executing := readAgain(dir)
		if executing {
			inPlace = 0
		} else {
			inPlace++
		}
		// An environment in place that reads empty time after time is
		// not read across execs: its memory cannot be read.
		if !again || inPlace > maxInPlace || time.Now().After(deadline) {
			return nil, nil
		}
		time.Sleep(time.Millisecond)
	}
}

// maxInPlace bounds the empty reads in a row of an environment in place
// that environ makes again.
const maxInPlace = 3

// execWait bounds how long environ waits for a process to end an exec.
const execWait = time.Second

// readEnviron reads the environ file in dir with one read from its
// start, and returns why the file could not be read. The file reads the
// memory the process had when it was opened, and reads nothing once an
// exec has replaced that memory: of two reads the second can find
// nothing, and the environment then looks cut short.
func readEnviron(dir string) ([]byte, error) {
	fd, err := unix.Open(dir+"/environ", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	for size := 8 << 10; ; size *= 2 {
		buf := make([]byte, size)
		n, err := unix.Pread(fd, buf, 0)
		if err != nil {
			return nil, err
		}
		if n < size {
			return buf[:n], nil
		}
	}
}

// readAgain reports, from /proc/<pid>/stat in dir, whether a process
// whose environment read empty is worth reading again: it is live and
// executing a program, whose new memory has no code yet (start_code,
// the 26th field, is 0 until the kernel has set up the stack, the
// environment included), or its environment is in place (env_start and
// env_end, the 50th and 51st fields, differ) and was read across an
// exec that has ended since, or the start of the next one.
// It also reports whether the process is executing a program.
func readAgain(dir string) (again, executing bool) {
	f := statFields(dir)
	if len(f) < 49 || f[0] == "Z" || f[0] == "X" {
		return false, false
	}
	flags, err := strconv.ParseUint(f[6], 10, 64)
	if err != nil || flags&(pfExiting|pfKthread) != 0 {
		return false, false
	}
	executing = f[23] == "0"
	return executing || f[47] != f[48], executing
}

// Flags of /proc/<pid>/stat (the kernel's PF_EXITING and PF_KTHREAD).
const (
	pfExiting = 0x4
	pfKthread = 0x200000
)

// hasEntry reports whether env holds needle at the start of an entry.
func hasEntry(env, needle []byte) bool {
	return bytes.HasPrefix(env, needle) || bytes.Contains(env, append([]byte{0}, needle...))
}

// Release closes m's pidfd, where it has one.
func (m Member) Release() { unix.Close(m.Fd) }

// MarkerOf returns the tree marker in the environment of pid, or "".
func MarkerOf(pid int) string {
	m, _ := MarkerRead(pid)
	return m
}

// MarkerRead returns the tree marker in the environment of pid, or "",
// and false when the environment could not be read for want of a
// resource (file descriptors, memory): "" then tells nothing.
func MarkerRead(pid int) (string, bool) {
	env, err := environErr(pid)
	if err == unix.EMFILE || err == unix.ENFILE || err == unix.ENOMEM {
		return "", false
	}
	key := []byte(EnvKey + "=")
	for kv := range bytes.SplitSeq(env, []byte{0}) {
		if v, ok := bytes.CutPrefix(kv, key); ok {
			return string(v), true
		}
	}
	return "", true
}

// exited reports whether m's process has exited.
func (m Member) exited() bool { return Exited(m.Fd) }

// Exited reports whether the process of pidfd fd has exited: the pidfd
// is then readable.
func Exited(fd int) bool {
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(fds, 0)
		if err != unix.EINTR {
			return err == nil && n > 0
		}
	}
}

// GroupLeft reports whether a process is left in t's group: kill(-pgid)
// with signal 0, which delivers nothing, so it is safe after the child's
// reap too (a group that reused the number only makes it true). One
// call sees the whole group at once, where a look through /proc can miss
// a member that forks its successor and exits during the look.
func (t Tree) GroupLeft() bool {
	return t.Pgid > 1 && syscall.Kill(-t.Pgid, 0) != syscall.ESRCH
}

// SignalGroup sends sig to t's group, only while the child is not reaped
// (the caller holds the lock under which it is reaped).
func (t Tree) SignalGroup(sig syscall.Signal) {
	if t.Leader != 0 && t.Pgid > 1 {
		syscall.Kill(-t.Pgid, sig)
	}
}
