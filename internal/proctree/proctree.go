// Package proctree finds and signals the process tree of a child that
// childproc started: its process group, its descendants by parent link,
// and (Linux) every process that carries its tree marker. Every process
// it signals is held by a pidfd opened before the check that it belongs,
// so that no signal reaches a process that reused a pid.
//
// A KillTree child leads its own process group, and carries a marker in
// its environment (EnvKey=<pid>.<nonce>.<n>) that its descendants inherit.
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
//     reaps under the caller's lock (Child.mu), under which every signal is sent; until the
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
package proctree

// EnvKey is the environment variable that carries a child's tree marker
// to all its descendants.
const EnvKey = "CHILDPROC_TREE"

// A Tree names the processes that belong to a child's tree.
type Tree struct {
	Leader   int    // the child, while it is not reaped; else 0
	Pgid     int    // the child's process group, or 0 when it shares ours
	Tag      Tag    // what the child's descendants inherit, or no tag
	ReapTick uint64 // once the child is reaped: the clock tick of the reap
	// LeaderFd is a pidfd of Leader when the caller cannot keep Leader
	// from being reaped (another process is its parent): Leader's group
	// and children then count only while the pidfd shows Leader not
	// reaped. 0 when the caller holds Leader, as Child.mu does (a pidfd
	// is never 0: stdio is open in every process childproc runs).
	LeaderFd int
}

// A Member is a process of a tree other than the child, held by a pidfd
// where there are pidfds.
type Member struct{ Pid, Fd int }

// Split splits found into the members not in before and the others.
func Split(found, before []Member) (fresh, seen []Member) {
	had := make(map[int]bool, len(before))
	for _, m := range before {
		had[m.Pid] = true
	}
	for _, m := range found {
		if had[m.Pid] {
			seen = append(seen, m)
		} else {
			fresh = append(fresh, m)
		}
	}
	return fresh, seen
}

// A Tag is what every descendant of a KillTree child inherits, so that
// the child's tree finds them even once they left its group and were
// orphaned: on Linux its tree marker, an environment entry
// (EnvKey=<marker>). Elsewhere a Tag is always empty: the tree is the
// group. The zero Tag is no tag.
type Tag struct{ marker string }

// TagOf returns the Tag whose marker is marker; a marker ending in "."
// stands for every marker that starts with it.
func TagOf(marker string) Tag { return Tag{marker} }

// String returns t's marker, or "" for no tag.
func (t Tag) String() string { return t.marker }

// FindsOrphans reports whether t finds members by its Tag: even those
// orphaned outside its group, and after the child's reap too. A caller
// that must reach the members of a tree without one after the reap holds
// them first (see Hold).
func (t Tree) FindsOrphans() bool { return t.Tag.marker != "" }
