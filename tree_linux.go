package childproc

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// A KillTree child leads its own process group, and carries a marker in
// its environment (treeEnv=<parent pid>.<n>) that its descendants inherit.
// Its tree is then: the group, the descendants found by walking /proc's
// parent links from the child, and every process whose environment holds
// the marker, which finds even descendants that changed group and were
// orphaned. Descendants that both left the group and cleared their
// environment after being orphaned cannot be found, nor, unless this
// process has CAP_SYS_PTRACE (root has it), orphans outside the group
// that are not dumpable (PR_SET_DUMPABLE 0, as ssh-agent makes itself,
// and every setuid or setgid program): the kernel lets only a tracer
// read their environment.
//
// A child subreaper (PR_SET_CHILD_SUBREAPER) would keep such orphans
// attached to this process, but it cannot be used safely here: it is a
// property of the whole process, so the orphans of every descendant
// (those of os/exec's children too) would become this process's
// children, and nothing tells them from the children that os/exec or
// other code started and will wait for. Reaping them (waitid(P_ALL))
// would take exit statuses that belong to those Waits; not reaping them
// would leave a zombie of every orphan.
//
// Every signal of a tree goes to a process whose identity was checked:
//
//   - The child itself through its pidfd (os.Process).
//   - Its process group, with kill(-pgid), only while the child is not
//     reaped. The lifecycle watches for the exit with waitid(WNOWAIT) and
//     reaps under Child.mu, under which every signal is sent; until the
//     reap the zombie holds the number as its pid, so no other process
//     can have it, and the group is the one the child made.
//   - Every other process through a pidfd opened before the check that
//     it belongs to the tree, a check that holds only if the process was
//     still not reaped once it had been read (pidfd_send_signal with
//     signal 0 says so): until then its pid cannot have been reused, so
//     what was read was its own. It belongs when it carries the marker,
//     or its parent is the child (not reaped) or a member checked so
//     (itself not reaped once the link was read), or it is in the group:
//     while the child is not reaped, or, after the reap, if it started in
//     a clock tick before the one of the reap.
//
// Why a group member that started before the reap is ours: the kernel
// gives a number to a new process only when no process uses it as its
// pid, process group or session, and makes a group only with its
// leader's own pid (setpgid(0, 0), setsid). So group P, once its leader
// is reaped, stays ours while any member is left; a new group P can come
// only after every member has gone, from a new process that was given
// the number P and made itself a leader, after the reap. Its members are
// that process and those forked after it, all started after the reap,
// except a process that existed before and later joined the new group
// itself (setpgid(0, P)), which it can do only from within that group's
// session; such a process is taken for ours. Start times count clock
// ticks (10 ms), so members started in the last tick before the reap are
// found only through the marker or a parent link.

// userHZ is the unit of the start times in /proc/<pid>/stat: clock ticks
// per second (USER_HZ, 100 on every architecture Go runs on).
const userHZ = 100

// awaitExit blocks until the child pid has ended, without reaping it,
// and reports whether it saw the end (false if pid is not a child to
// wait for).
func awaitExit(pid int) bool {
	var info unix.Siginfo
	for {
		err := unix.Waitid(unix.P_PID, pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if err != unix.EINTR {
			return err == nil
		}
	}
}

// clockTick returns the clock tick (since boot) that is running now, in
// the unit of the start times in /proc.
func clockTick() uint64 {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts) != nil {
		return 0
	}
	return uint64(ts.Nano()) / (1e9 / userHZ)
}

// signal sends sig to members, whose pidfds it closes, and, on a kernel
// without pidfds, to the group while the child is not reaped. It returns how many got the signal,
// counting the group as one.
func (t tree) signal(members []member, sig syscall.Signal) int {
	n := 0
	if t.leader != 0 && t.pgid > 1 && !pidfdsWork() && syscall.Kill(-t.pgid, sig) == nil {
		n++ // without pidfds, members are never found: the group is all there is
	}
	for _, m := range members {
		if unix.PidfdSendSignal(m.fd, sig, nil, 0) == nil {
			n++
		}
		unix.Close(m.fd)
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

// treeMembers returns the pids of the tree rooted at pid (pid excluded):
// its descendants by parent link, the members of group pgid, and the
// processes whose environment holds the marker (and their descendants).
// A marker ending in "." matches every marker that starts with it.
func treeMembers(pid, pgid int, marker string) []int {
	members := tree{leader: pid, pgid: pgid, marker: marker}.find()
	pids := make([]int, len(members))
	for i, m := range members {
		pids[i] = m.pid
		unix.Close(m.fd)
	}
	return pids
}

// find returns the members of t other than the child, each checked
// through a pidfd as the comment at the top of this file says. The
// caller closes their pidfds.
func (t tree) find() []member {
	procs := readProcs()
	children := map[int][]int{}
	for _, p := range procs {
		children[p.ppid] = append(children[p.ppid], p.pid)
	}
	f := finder{tree: t, needle: markerNeedle(t.marker), held: map[int]int{}, self: os.Getpid()}
	if t.leader > 1 {
		f.held[t.leader] = -1 // held by not being reaped
	}
	var queue []int
	for _, p := range procs {
		if t.pgid > 1 && p.pgid == t.pgid || f.needle != nil && hasMarker(p.pid, f.needle) {
			queue = append(queue, p.pid)
		}
	}
	if t.leader > 1 {
		queue = append(queue, children[t.leader]...)
	}
	for ; len(queue) > 0; queue = queue[1:] {
		if p := queue[0]; f.check(p) {
			queue = append(queue, children[p]...)
		}
	}
	delete(f.held, t.leader)
	members := make([]member, 0, len(f.held))
	for pid, fd := range f.held {
		members = append(members, member{pid, fd})
	}
	return members
}

// A finder checks candidates for one tree.
type finder struct {
	tree
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
	if info, ok := readProc(p); ok && f.belongs(info) && notReaped(fd) {
		f.held[p] = fd
		return true
	}
	unix.Close(fd)
	return false
}

// belongs reports whether the process read as info is part of the tree.
func (f *finder) belongs(info procInfo) bool {
	if f.pgid > 1 && info.pgid == f.pgid && (f.leader != 0 || info.start < f.reapTick) {
		return true
	}
	if fd, ok := f.held[info.ppid]; ok && (fd < 0 || notReaped(fd)) {
		return true
	}
	return f.needle != nil && hasMarker(info.pid, f.needle)
}

// notReaped reports whether the process of pidfd fd has not been reaped
// (it may have ended): until then its pid cannot have been reused.
func notReaped(fd int) bool { return unix.PidfdSendSignal(fd, 0, nil, 0) != unix.ESRCH }

// markerNeedle returns the environment entry that carries marker, or nil
// for no marker. A marker ending in "." is a prefix of markers.
func markerNeedle(marker string) []byte {
	if marker == "" {
		return nil
	}
	needle := []byte(treeEnv + "=" + marker)
	if !strings.HasSuffix(marker, ".") {
		needle = append(needle, 0)
	}
	return needle
}

type procInfo struct {
	pid, ppid, pgid int
	start           uint64 // clock ticks after boot
}

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

// readProc reads the parent, group and start time of a live (not zombie)
// process.
func readProc(pid int) (procInfo, bool) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procInfo{}, false
	}
	// pid (comm) state ppid pgrp session tty_nr tpgid flags minflt
	// cminflt majflt cmajflt utime stime cutime cstime priority nice
	// num_threads itrealvalue starttime ...: comm may hold spaces and
	// parens.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return procInfo{}, false
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 20 || f[0] == "Z" {
		return procInfo{}, false
	}
	ppid, _ := strconv.Atoi(f[1])
	pgid, _ := strconv.Atoi(f[2])
	start, err := strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return procInfo{}, false
	}
	return procInfo{pid, ppid, pgid, start}, true
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

// release closes m's pidfd, where it has one.
func (m member) release() { unix.Close(m.fd) }
