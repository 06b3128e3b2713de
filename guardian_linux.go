package childproc

import (
	"bytes"
	"errors"
	"log/slog"
	"math"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/childproc/childproc/internal/handoff"
	"github.com/childproc/childproc/internal/proctree"
	"github.com/childproc/childproc/internal/reexec"
)

// The guardian makes children die with their parent, even a SIGKILLed
// one, which runs no code of its own. It is one process per parent,
// started with the first child that needs it: a re-execution of this
// binary in its own process group (so terminal signals pass it by), that
// holds a pidfd of every guarded child (neither Detached nor
// SurviveParent), passed to it over a Unix socket right after the child
// started. When the socket reports EOF the parent is gone, however it
// went; the guardian then SIGKILLs every child still running through its
// pidfd, stops every KillTree tree (KillSignal, SIGKILL after the
// delay), and exits. A pidfd names one process and never another that
// reused its pid, and a process group is signalled only while its
// leader's pidfd shows it alive, so the guardian never reaches a
// stranger. The guardian closes a child's pidfd when the child exits,
// and drops a tree when the parent withdraws it, so nothing accumulates.
//
// The parent keeps a pidfd of each guarded child until it is reaped, and
// the marker of each KillTree tree that may still have members: if the
// guardian dies, the next child that needs one starts a new guardian (at
// once when the old one is reaped), and everything still live is
// registered with it again.

// guardianPath is the program a guardian runs: this very binary. Tests
// change it (under guardian.mu) to make starts fail.
var guardianPath = "/proc/self/exe"

// testHookGuardChild, when set, runs as a child's registration begins.
var testHookGuardChild func()

// guardianStartWait bounds how long a spawn waits for a new guardian to
// say it runs.
const guardianStartWait = 10 * time.Second

var guardian struct {
	mu        sync.Mutex
	proc      *guardianProc         // the running guardian, or nil
	regs      map[uint64]*guardLink // what the guardian must know
	lastID    uint64
	lingering int // trees in regs whose child was reaped
	pruneAt   int // lingering count at which to look for trees that are gone
	started   time.Time
}

// guardianProc is one guardian process and the parent's end of its
// socket.
type guardianProc struct {
	sock *os.File
	fd   int
	p    *os.Process
}

// A guardLink is a child registered with the guardian: its pidfd until it
// is reaped and, for a KillTree child, how to stop its tree.
type guardLink struct {
	id    uint64
	pidfd int // -1 once the child is reaped
	tree  treeStop
}

// treeStop is how the guardian stops a KillTree tree; the zero value
// stands for a child that is not one.
type treeStop struct {
	sig    syscall.Signal
	delay  time.Duration // kept in whole milliseconds
	marker string
}

// claimGuardian runs the guardian when childproc started this process
// as one, and then never returns. A process whose reexec.Key names the
// guardian without its proof exits with status 2.
func claimGuardian(sock *os.File, err error) {
	if sock == nil {
		os.Stderr.WriteString("childproc: " + reexec.Key + "=" + string(reexec.Guardian) + " is set but this process was not started as a guardian\n")
		os.Exit(2)
	}
	runGuardian(sock)
}

// isGuarded reports whether set asks for a child that dies with its
// parent.
func isGuarded(set *settings) bool { return !set.Detached && !set.SurviveParent }

// errGuardianSecure: a guardian would run in a secure-execution process,
// where a re-execution of this binary refuses to act.
var errGuardianSecure = errors.New("childproc: no guardian in a setuid, setgid or file-capability program: children cannot be made to die with their parent (use SurviveParent)")

// errGuardianSilent: the guardian ended before it said it runs.
var errGuardianSilent = errors.New("childproc: the guardian process ended as it started")

// readyGuardian makes sure a guardian runs, starting one if needed, so
// that a child about to start can be registered.
func readyGuardian() error {
	guardian.mu.Lock()
	defer guardian.mu.Unlock()
	return ensureGuardianLocked()
}

// guardChild registers a child that has just started (and has not been
// reaped: its pid is still its own). The returned link is released with
// release once the child is reaped.
func guardChild(pid int, tree treeStop) (*guardLink, error) {
	if testHookGuardChild != nil {
		testHookGuardChild()
	}
	pidfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return nil, err
	}
	guardian.mu.Lock()
	defer guardian.mu.Unlock()
	guardian.lastID++
	l := &guardLink{id: guardian.lastID, pidfd: pidfd, tree: tree}
	if guardian.regs == nil {
		guardian.regs = map[uint64]*guardLink{}
	}
	guardian.regs[l.id] = l // and so registered with any guardian started from here on
	if guardian.proc != nil && sendLocked(l.message()) == nil {
		return l, nil
	}
	// No guardian, or it died: a new one gets everything, this child
	// included.
	stopGuardianLocked()
	if err := ensureGuardianLocked(); err != nil {
		delete(guardian.regs, l.id)
		unix.Close(pidfd)
		return nil, err
	}
	return l, nil
}

// release tells the registry that l's child has been reaped: its pidfd
// is closed; a tree stays registered, by its marker only, until no
// process carries the marker any more.
func (l *guardLink) release() {
	if l == nil {
		return
	}
	guardian.mu.Lock()
	defer guardian.mu.Unlock()
	unix.Close(l.pidfd)
	l.pidfd = -1
	if l.tree.marker == "" {
		delete(guardian.regs, l.id)
		return // the guardian saw the child exit through its own pidfd
	}
	guardian.lingering++
	if guardian.lingering >= guardian.pruneAt {
		pruneTreesLocked()
	}
}

// pruneTreesLocked withdraws the trees of reaped children that no live
// process belongs to any more. It looks at /proc once, so it runs only
// when the number of such trees has doubled since it last ran.
func pruneTreesLocked() {
	carried := liveMarkers()
	for id, l := range guardian.regs {
		if l.pidfd >= 0 || l.tree.marker == "" || carried[l.tree.marker] {
			continue
		}
		delete(guardian.regs, id)
		guardian.lingering--
		if guardian.proc != nil {
			sendLocked(guardMsg{op: opWithdraw, id: id}.line(), -1)
		}
	}
	guardian.pruneAt = max(64, 2*guardian.lingering)
}

// message is l's registration: its line and its pidfd, or -1 once the
// child has been reaped.
func (l *guardLink) message() (string, int) {
	if l.pidfd < 0 {
		return guardMsg{op: opTree, id: l.id, tree: l.tree}.line(), -1
	}
	return guardMsg{op: opChild, id: l.id, tree: l.tree}.line(), l.pidfd
}

// sendLocked writes one line to the guardian, with pidfd attached when it
// is not -1.
func sendLocked(line string, pidfd int) error {
	var rights []byte
	if pidfd >= 0 {
		rights = unix.UnixRights(pidfd)
	}
	for {
		err := unix.Sendmsg(guardian.proc.fd, []byte(line), rights, nil, unix.MSG_NOSIGNAL)
		if err != unix.EINTR {
			return err
		}
	}
}

// ensureGuardianLocked starts a guardian if none runs, and registers with
// it everything the registry holds.
func ensureGuardianLocked() error {
	if guardian.proc != nil {
		return nil
	}
	if handoff.SecureExec() {
		return errGuardianSecure
	}
	g, err := startGuardian()
	if err != nil {
		return err
	}
	guardian.proc, guardian.started = g, time.Now()
	go reapGuardian(g)
	for _, l := range guardian.regs {
		if err := sendLocked(l.message()); err != nil {
			stopGuardianLocked()
			return err
		}
	}
	return nil
}

// stopGuardianLocked forgets the running guardian, which has failed, and
// kills it, so that it does not act on a registry it no longer has. Its
// socket is closed only once it has been reaped: it must never read EOF
// while the parent lives.
func stopGuardianLocked() {
	if g := guardian.proc; g != nil {
		g.p.Kill()
		guardian.proc = nil
	}
}

// startGuardian starts a guardian process and waits until it says it
// runs. Its environment holds nothing but the handoff: it needs nothing
// else, and a guardian runs no code that the environment could steer.
func startGuardian() (*guardianProc, error) {
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	defer null.Close()
	attr := &os.ProcAttr{Files: []*os.File{null, null, null}, Sys: &syscall.SysProcAttr{Setpgid: true}}
	parent, child, err := reexec.Offer(reexec.Guardian, attr)
	if err != nil {
		return nil, err
	}
	p, err := os.StartProcess(guardianPath, []string{"childproc-guardian"}, attr)
	child.Close()
	if err != nil {
		parent.Close()
		return nil, err
	}
	g := &guardianProc{sock: parent, fd: int(parent.Fd()), p: p}
	err = unix.SetNonblock(g.fd, false) // a full socket makes a spawn wait, never fail
	if err == nil {
		// Room for the registrations of a guardianBatch, where the
		// system allows it (the default holds about 280).
		unix.SetsockoptInt(g.fd, unix.SOL_SOCKET, unix.SO_SNDBUF, guardianSocketBuffer)
		err = awaitGuardian(g.fd)
	}
	if err != nil {
		p.Kill()
		p.Wait()
		parent.Close()
		return nil, err
	}
	return g, nil
}

// awaitGuardian waits for the byte a guardian writes once it runs.
func awaitGuardian(fd int) error {
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	deadline := time.Now().Add(guardianStartWait)
	for {
		n, err := unix.Poll(fds, int(time.Until(deadline)/time.Millisecond))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if n == 0 {
			return unix.ETIMEDOUT
		}
		var b [1]byte
		if n, err := unix.Read(fd, b[:]); err != nil || n != 1 || b[0] != guardianReady {
			return errGuardianSilent
		}
		return nil
	}
}

// guardianReady is the byte a guardian writes once it runs.
const guardianReady = '.'

// reapGuardian waits for a guardian, which exits only after the parent
// unless something killed it: then a new one takes over at once (at most
// one start a second).
func reapGuardian(g *guardianProc) {
	g.p.Wait()
	g.sock.Close()
	guardian.mu.Lock()
	defer guardian.mu.Unlock()
	if guardian.proc != g {
		return
	}
	guardian.proc = nil
	if len(guardian.regs) == 0 {
		return
	}
	if wait := time.Second - time.Since(guardian.started); wait > 0 {
		guardian.mu.Unlock()
		time.Sleep(wait)
		guardian.mu.Lock()
	}
	if err := ensureGuardianLocked(); err != nil {
		// The next child that needs a guardian tries again.
		logGuardian(slog.LevelError, "childproc: the guardian died and could not be replaced; running children will not die with this process until a spawn starts a new one", "children", len(guardian.regs), "err", err)
		return
	}
	logGuardian(slog.LevelWarn, "childproc: the guardian died and was replaced", "children", len(guardian.regs))
}

// liveMarkers returns the tree markers that live processes carry.
func liveMarkers() map[string]bool {
	carried := map[string]bool{}
	for _, p := range proctree.ReadProcs() {
		if m := proctree.MarkerOf(p.Pid); m != "" {
			carried[m] = true
		}
	}
	return carried
}

// The guardian's side.

// A guardee is a child the guardian stops when the parent is gone.
type guardee struct {
	pidfd int // -1 once the child has exited
	pid   int // for a KillTree child: its pid, its tree's pgid
	tree  treeStop
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

// runGuardian is the guardian's main; it never returns.
func runGuardian(sock *os.File) {
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
		if m.tree.marker != "" {
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
func (g *guardState) keepTree(id uint64, tree treeStop) {
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
	if c.tree.marker == "" {
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
	info, err := os.ReadFile("/proc/self/fdinfo/" + strconv.Itoa(fd))
	if err != nil {
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

// stopAll stops everything registered, now that the parent is gone:
// SIGKILL to each child, KillSignal to each tree and, once the tree's own
// delay has passed, SIGKILL to what is left of it. It exits the guardian.
func (g *guardState) stopAll() {
	g.signalAll(func(t treeStop) syscall.Signal {
		if t.marker == "" {
			return syscall.SIGKILL
		}
		return t.sig
	})
	start := time.Now()
	for _, d := range g.delays() {
		due := func(t treeStop) bool { return t.marker != "" && t.delay <= d }
		for time.Since(start) < d && g.anyLeft(due) {
			time.Sleep(20 * time.Millisecond)
		}
		g.signalAll(func(t treeStop) syscall.Signal {
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
		if c.tree.marker != "" && !slices.Contains(ds, c.tree.delay) {
			ds = append(ds, c.tree.delay)
		}
	}
	slices.Sort(ds)
	return ds
}

// signalAll signals every child and the members of every tree (no
// signal where sig returns 0), twice over to catch processes forked
// meanwhile.
func (g *guardState) signalAll(sig func(treeStop) syscall.Signal) {
	for round := 0; round < 2; round++ {
		for _, c := range g.children {
			s := sig(c.tree)
			if c.pidfd < 0 || s == 0 {
				continue
			}
			unix.PidfdSendSignal(c.pidfd, s, nil, 0)
			if c.tree.marker != "" && pidfdAlive(c.pidfd) {
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
func (g *guardState) anyLeft(which func(treeStop) bool) bool {
	for _, c := range g.children {
		if which(c.tree) && c.pidfd >= 0 && !pidfdExited(c.pidfd) {
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

// pidfdExited reports whether pidfd's process has exited (its pidfd is
// then readable).
func pidfdExited(pidfd int) bool {
	fds := []unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}
	n, err := unix.Poll(fds, 0)
	return err == nil && n > 0
}

// pinnedProc is a process of a tree, pinned by a pidfd.
type pinnedProc struct {
	pidfd int
	tree  treeStop
}

// members finds the processes of the trees, other than their leaders,
// and pins each with a pidfd before checking that it belongs: it is in
// the group of a leader that is alive, carries a tree's marker, or is
// the child of a member that is alive (found by parent link). The checks
// read the pinned process, or one that reused its pid after it died, in
// which case the signal, sent through the pidfd, reaches nobody.
func (g *guardState) members() []pinnedProc {
	f := g.treeFinder()
	if len(f.markers) == 0 {
		return nil
	}
	procs := proctree.ReadProcs()
	for _, p := range procs {
		f.pin(p.Pid, f.inGroupOrMarked)
	}
	for grew := true; grew; {
		grew = false
		for _, p := range procs {
			if _, ok := f.pinned[p.Ppid]; ok {
				grew = f.pin(p.Pid, f.childOfMember) || grew
			}
		}
	}
	return f.found()
}

// A treeFinder gathers the members of the guardian's trees.
type treeFinder struct {
	groups  map[int]pinnedProc  // by pgid: the leader
	markers map[string]treeStop // the trees, by marker
	pinned  map[int]pinnedProc  // by pid: the leaders (pidfd -1) and the members found
	self    int
}

// treeFinder starts a search from the KillTree children still registered.
func (g *guardState) treeFinder() *treeFinder {
	f := &treeFinder{groups: map[int]pinnedProc{}, markers: map[string]treeStop{}, pinned: map[int]pinnedProc{}, self: os.Getpid()}
	for _, c := range g.children {
		if c.tree.marker == "" {
			continue
		}
		f.markers[c.tree.marker] = c.tree
		if c.pidfd >= 0 && pidfdAlive(c.pidfd) {
			f.groups[c.pid] = pinnedProc{c.pidfd, c.tree}
			f.pinned[c.pid] = pinnedProc{-1, c.tree} // signalled as a child
		}
	}
	return f
}

// pin pins pid with a pidfd and keeps it if belongs says, once it is
// pinned, which tree it is part of; it reports whether it kept pid.
func (f *treeFinder) pin(pid int, belongs func(proctree.Proc) (treeStop, bool)) bool {
	if _, done := f.pinned[pid]; done || pid == f.self || pid <= 1 {
		return false
	}
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return false
	}
	info, ok := proctree.ReadProc(pid)
	t, in := belongs(info)
	if !ok || !in {
		unix.Close(fd)
		return false
	}
	f.pinned[pid] = pinnedProc{fd, t}
	return true
}

// inGroupOrMarked: a process in the group of a leader that is alive, or
// one that carries a tree's marker.
func (f *treeFinder) inGroupOrMarked(info proctree.Proc) (treeStop, bool) {
	if leader, ok := f.groups[info.Pgid]; ok && pidfdAlive(leader.pidfd) {
		return leader.tree, true
	}
	t, ok := f.markers[proctree.MarkerOf(info.Pid)]
	return t, ok
}

// childOfMember: a process whose parent is a member, or a leader, that is
// alive.
func (f *treeFinder) childOfMember(info proctree.Proc) (treeStop, bool) {
	parent, ok := f.pinned[info.Ppid]
	if !ok || parent.pidfd >= 0 && !pidfdAlive(parent.pidfd) {
		return treeStop{}, false
	}
	if parent.pidfd < 0 && !pidfdAlive(f.groups[info.Ppid].pidfd) {
		return treeStop{}, false
	}
	return parent.tree, true
}

// found returns the members pinned, without the leaders.
func (f *treeFinder) found() []pinnedProc {
	out := make([]pinnedProc, 0, len(f.pinned))
	for _, m := range f.pinned {
		if m.pidfd >= 0 {
			out = append(out, m)
		}
	}
	return out
}

// pidfdAlive reports whether pidfd's process has not been reaped.
func pidfdAlive(pidfd int) bool { return unix.PidfdSendSignal(pidfd, 0, nil, 0) == nil }

// The parent's lines. Each is one sendmsg, so a pidfd arrives with the
// first byte of its line, and pidfds arrive in the order of their lines.
const (
	opChild    = '+' // a child, its pidfd attached: "+<id>", or "+<id> <tree>"
	opTree     = '*' // the tree of a child already reaped: "*<id> <tree>"
	opWithdraw = '-' // a tree that is gone: "-<id>"
)

// guardMsg is one line from the parent; <tree> is "<signal> <delay ms>
// <marker>".
type guardMsg struct {
	op   byte
	id   uint64
	tree treeStop
}

// line encodes m, newline included.
func (m guardMsg) line() string {
	s := string(m.op) + strconv.FormatUint(m.id, 10)
	if m.tree.marker != "" {
		s += " " + strconv.Itoa(int(m.tree.sig)) + " " + strconv.FormatInt(int64(m.tree.delay/time.Millisecond), 10) + " " + m.tree.marker
	}
	return s + "\n"
}

// parseGuardLine reads one line (without its newline) as line writes it;
// anything else, numbers not in canonical form included, is not ok.
func parseGuardLine(line string) (guardMsg, bool) {
	if line == "" {
		return guardMsg{}, false
	}
	m := guardMsg{op: line[0]}
	f := strings.Split(line[1:], " ")
	id, ok := canonicalUint(f[0], math.MaxUint64)
	if !ok || id == 0 {
		return guardMsg{}, false
	}
	m.id = id
	switch {
	case len(f) == 1 && (m.op == opChild || m.op == opWithdraw):
		return m, true
	case len(f) == 4 && (m.op == opChild || m.op == opTree):
		sig, ok1 := canonicalUint(f[1], 64)
		ms, ok2 := canonicalUint(f[2], math.MaxInt64/uint64(time.Millisecond))
		if !ok1 || !ok2 || sig == 0 || !isMarker(f[3]) {
			return guardMsg{}, false
		}
		m.tree = treeStop{syscall.Signal(sig), time.Duration(ms) * time.Millisecond, f[3]}
		return m, true
	}
	return guardMsg{}, false
}

// canonicalUint reads a decimal number no greater than limit, written
// without sign or leading zeros.
func canonicalUint(s string, limit uint64) (uint64, bool) {
	n, err := strconv.ParseUint(s, 10, 64)
	return n, err == nil && n <= limit && s == strconv.FormatUint(n, 10)
}

// isMarker reports whether s can be a tree marker: 1 to 64 letters,
// digits, dots, dashes and underscores.
func isMarker(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for _, c := range []byte(s) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
