//go:build linux

package guardian

import (
	"bytes"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/childproc/childproc/internal/proctree"
	"github.com/childproc/childproc/internal/reexec"
)

// The guardian's side.

// Claim runs the guardian when childproc started this process as one
// (a reexec.Claim for reexec.Guardian), and then never returns. A
// process whose variable names the guardian without its proof exits with
// status 2.
func Claim(sock *os.File, _ error) {
	if sock == nil {
		os.Stderr.WriteString("childproc: " + reexec.Key + "=" + string(reexec.Guardian) + " is set but this process was not started as a guardian\n")
		os.Exit(2)
	}
	run(sock)
}

// A guardee is a child the guardian stops when the parent is gone.
type guardee struct {
	pidfd int // -1 once the child has exited
	pid   int // for a KillTree child: its pid, its tree's pgid
	tree  Tree
}

// guardState is what a guardian knows.
type guardState struct {
	sock     int
	epfd     int
	children map[uint64]*guardee
	byFd     map[int]uint64
	fds      []int  // pidfds received and not yet claimed by a line
	pending  []byte // the start of a line not yet complete
	buf, oob []byte // for recvmsg
}

// run is the guardian's main; it never returns.
func run(sock *os.File) {
	signal.Ignore(syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGPIPE)
	g := &guardState{
		sock:     int(sock.Fd()),
		children: map[uint64]*guardee{},
		byFd:     map[int]uint64{},
		buf:      make([]byte, 4096),
		oob:      make([]byte, unix.CmsgSpace(64*4)),
	}
	var err error
	if g.epfd, err = unix.EpollCreate1(unix.EPOLL_CLOEXEC); err != nil {
		os.Exit(1)
	}
	if g.watch(g.sock) != nil {
		os.Exit(1)
	}
	if _, err := unix.Write(g.sock, []byte{guardianReady}); err != nil {
		os.Exit(1)
	}
	events := make([]unix.EpollEvent, 64)
	for {
		n, err := unix.EpollWait(g.epfd, events, -1)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			break
		}
		for _, ev := range events[:n] {
			if int(ev.Fd) != g.sock {
				g.exited(int(ev.Fd))
			} else if !g.read() {
				g.stopAll()
			}
		}
		// Let registrations and exits gather: what the parent sent stays
		// in the socket even once the parent is gone, so reading late
		// loses nothing, and a guardian woken twice per child would
		// slow every spawn down on a busy machine.
		ts := unix.NsecToTimespec(int64(guardianBatch))
		unix.Nanosleep(&ts, nil) // a plain sleep of this thread: no scheduler work
	}
	g.stopAll()
}

// guardianBatch is how long a guardian lets events gather after it has
// handled some: a bound on how late it acts on the parent's death, and
// on how long a spawn may wait when the socket is full.
const guardianBatch = 20 * time.Millisecond

// guardianSocketBuffer is the send buffer the parent asks for.
const guardianSocketBuffer = 1 << 20

// watch adds fd to the guardian's epoll set.
func (g *guardState) watch(fd int) error {
	return unix.EpollCtl(g.epfd, unix.EPOLL_CTL_ADD, fd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)})
}

// read takes all the parent has sent; it reports false once the parent
// is gone.
func (g *guardState) read() bool {
	for {
		n, oobn, _, _, err := unix.Recvmsg(g.sock, g.buf, g.oob, unix.MSG_CMSG_CLOEXEC|unix.MSG_DONTWAIT)
		switch {
		case err == unix.EINTR:
		case err == unix.EAGAIN:
			return true
		case err == nil && n == 0 && oobn == 0, err == unix.ECONNRESET, err == unix.EBADF:
			return false // the parent is gone
		case err != nil:
			// ENOMEM, ENOBUFS and the like say nothing of the parent:
			// the guardian tries again at its next round rather than
			// kill the children of a parent that lives.
			return true
		default:
			g.take(g.buf[:n], g.oob[:oobn])
		}
	}
}

// take handles the bytes and descriptors of one recvmsg.
func (g *guardState) take(buf, oob []byte) {
	g.fds = append(g.fds, receivedFds(oob)...)
	g.pending = append(g.pending, buf...)
	for {
		i := bytes.IndexByte(g.pending, '\n')
		if i < 0 {
			break
		}
		g.apply(string(g.pending[:i]))
		g.pending = g.pending[i+1:]
	}
	if len(g.pending) > maxGuardLine {
		g.pending = nil // not a line the parent writes
	}
}

// maxGuardLine bounds a line from the parent.
const maxGuardLine = 256

// receivedFds returns the descriptors an SCM_RIGHTS message carried.
func receivedFds(oob []byte) []int {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil
	}
	var fds []int
	for _, m := range msgs {
		if got, err := unix.ParseUnixRights(&m); err == nil {
			fds = append(fds, got...)
		}
	}
	return fds
}

// apply acts on one line from the parent. A registration takes the
// oldest pidfd received (each was sent with its line, in order); a
// descriptor that is not a pidfd registers nothing, and the pidfd of a
// KillTree child that the parent has reaped meanwhile registers its tree
// by marker, as a line for a reaped child's tree does.
func (g *guardState) apply(line string) {
	m, ok := parseGuardLine(line)
	if !ok {
		return
	}
	switch m.op {
	case opWithdraw:
		if c := g.children[m.id]; c != nil {
			g.forget(m.id, c)
		}
	case opTree:
		g.keepTree(m.id, m.tree)
	case opChild:
		if len(g.fds) == 0 {
			return
		}
		fd := g.fds[0]
		g.fds = g.fds[1:]
		pid, ok := 0, true
		if m.tree.Marker != "" {
			pid, ok = pidfdPid(fd) // a tree's group is its leader's pid
		}
		if pid == reapedPid {
			// The parent reaped the child before this line was read:
			// what is left of its tree is found by its marker.
			unix.Close(fd)
			g.keepTree(m.id, m.tree)
			return
		}
		if !ok || g.children[m.id] != nil || g.watch(fd) != nil {
			unix.Close(fd)
			return
		}
		g.children[m.id] = &guardee{pidfd: fd, pid: pid, tree: m.tree}
		g.byFd[fd] = m.id
	}
}

// keepTree registers the tree of a child already reaped, by its marker.
func (g *guardState) keepTree(id uint64, tree Tree) {
	if g.children[id] == nil {
		g.children[id] = &guardee{pidfd: -1, tree: tree}
	}
}

// exited handles a child's exit: its pidfd is closed, and a tree is kept,
// by its marker, until the parent withdraws it.
func (g *guardState) exited(fd int) {
	id, ok := g.byFd[fd]
	if !ok {
		return
	}
	c := g.children[id]
	delete(g.byFd, fd)
	unix.Close(fd) // closing it also takes it out of the epoll set
	c.pidfd = -1
	if c.tree.Marker == "" {
		delete(g.children, id)
	}
}

// forget drops a child.
func (g *guardState) forget(id uint64, c *guardee) {
	if c.pidfd >= 0 {
		delete(g.byFd, c.pidfd)
		unix.Close(c.pidfd)
	}
	delete(g.children, id)
}

// reapedPid is the pid that /proc shows for a pidfd whose process has
// been reaped.
const reapedPid = -1

// pidfdPid returns the pid that pidfd refers to (reapedPid once its
// process has been reaped), and whether fd is a pidfd of a process that
// has not been reaped.
func pidfdPid(fd int) (int, bool) {
	info, ok := fdinfo(fd)
	if !ok {
		return 0, false
	}
	for line := range bytes.SplitSeq(info, []byte{'\n'}) {
		if v, ok := bytes.CutPrefix(line, []byte("Pid:")); ok {
			pid, err := strconv.Atoi(string(bytes.TrimSpace(v)))
			return pid, err == nil && pid > 0
		}
	}
	return 0, false
}

// fdinfo returns what /proc/self/fdinfo shows of fd (a pidfd's fits in
// a few hundred bytes), read with one open, one read and one close:
// the guardian reads it for every KillTree child it is given.
func fdinfo(fd int) ([]byte, bool) {
	f, err := unix.Open("/proc/self/fdinfo/"+strconv.Itoa(fd), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, false
	}
	defer unix.Close(f)
	buf := make([]byte, 1024)
	n, err := unix.Read(f, buf)
	if err != nil || n <= 0 || n == len(buf) {
		return nil, false
	}
	return buf[:n], true
}

// stopAll stops everything registered, now that the parent is gone:
// SIGKILL to each child, its Signal to each tree and, once the tree's own
// delay has passed, SIGKILL to what is left of it. It exits the guardian.
func (g *guardState) stopAll() {
	g.signalAll(func(t Tree) syscall.Signal {
		if t.Marker == "" {
			return syscall.SIGKILL
		}
		return t.Signal
	})
	start := time.Now()
	for _, d := range g.delays() {
		due := func(t Tree) bool { return t.Marker != "" && t.Delay <= d }
		for time.Since(start) < d && g.anyLeft(due) {
			time.Sleep(20 * time.Millisecond)
		}
		g.signalAll(func(t Tree) syscall.Signal {
			if due(t) {
				return syscall.SIGKILL
			}
			return 0
		})
	}
	os.Exit(0)
}

// delays returns the trees' delays, in increasing order, each once.
func (g *guardState) delays() []time.Duration {
	var ds []time.Duration
	for _, c := range g.children {
		if c.tree.Marker != "" && !slices.Contains(ds, c.tree.Delay) {
			ds = append(ds, c.tree.Delay)
		}
	}
	slices.Sort(ds)
	return ds
}

// signalAll signals every child and the members of every tree (no
// signal where sig returns 0), twice over to catch processes forked
// meanwhile.
func (g *guardState) signalAll(sig func(Tree) syscall.Signal) {
	for round := 0; round < 2; round++ {
		for _, c := range g.children {
			s := sig(c.tree)
			if c.pidfd < 0 || s == 0 {
				continue
			}
			unix.PidfdSendSignal(c.pidfd, s, nil, 0)
			if c.tree.Marker != "" && proctree.NotReaped(c.pidfd) {
				// The leader is alive (if only as a zombie), so its
				// group is still the tree's.
				syscall.Kill(-c.pid, s)
			}
		}
		members := g.members()
		for _, m := range members {
			if s := sig(m.tree); s != 0 {
				unix.PidfdSendSignal(m.pidfd, s, nil, 0)
			}
			unix.Close(m.pidfd)
		}
		if len(members) == 0 {
			return
		}
	}
}

// anyLeft reports whether a child or a member of a tree for which which
// holds is still alive.
func (g *guardState) anyLeft(which func(Tree) bool) bool {
	for _, c := range g.children {
		if which(c.tree) && c.pidfd >= 0 && !proctree.Exited(c.pidfd) {
			return true
		}
	}
	left := false
	for _, m := range g.members() {
		left = left || which(m.tree)
		unix.Close(m.pidfd)
	}
	return left
}

// pinnedProc is a process of a tree, pinned by a pidfd.
type pinnedProc struct {
	pidfd int
	tree  Tree
}

// members finds the processes of the trees, other than their leaders,
// each pinned by a pidfd and checked by proctree: it is in the group of
// a leader not reaped, carries a tree's marker, or is the child of a
// member (or leader) not reaped. A leader is checked through the
// guardian's pidfd of it, since the guardian is not its parent.
func (g *guardState) members() []pinnedProc {
	var trees []proctree.Tree
	var stops []Tree
	for _, c := range g.children {
		if c.tree.Marker == "" {
			continue
		}
		t := proctree.Tree{Tag: proctree.TagOf(c.tree.Marker)}
		if c.pidfd >= 0 {
			t.Leader, t.Pgid, t.LeaderFd = c.pid, c.pid, c.pidfd
		}
		trees, stops = append(trees, t), append(stops, c.tree)
	}
	if len(trees) == 0 {
		return nil
	}
	var pinned []pinnedProc
	for i, found := range proctree.FindEach(trees) {
		for _, m := range found {
			pinned = append(pinned, pinnedProc{m.Fd, stops[i]})
		}
	}
	return pinned
}
