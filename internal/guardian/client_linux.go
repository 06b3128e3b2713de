//go:build linux

package guardian

import (
	"errors"
	"log/slog"
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/childproc/childproc/internal/handoff"
	"github.com/childproc/childproc/internal/proctree"
	"github.com/childproc/childproc/internal/reexec"
)

// The parent's side: the registry of what the guardian must know, and
// the guardian process it tells.
//
// The parent keeps a pidfd of each guarded child until it is reaped, and
// the marker of each KillTree tree that may still have members: if the
// guardian dies, the next child that needs one starts a new guardian (at
// once when the old one is reaped), and everything still live is
// registered with it again.

// Supported is true: Linux has a guardian.
const Supported = true

// program is the program a guardian runs: this very binary.
var program = "/proc/self/exe"

// SetProgram sets the program a guardian runs, "/proc/self/exe" by
// default: tests name one that does not exist to make starts fail.
func SetProgram(path string) {
	reg.mu.Lock()
	defer reg.mu.Unlock()
	program = path
}

// BeforeGuard, when set, runs as a child's registration begins (tests).
var BeforeGuard func()

// startWait bounds how long a spawn waits for a new guardian to say it
// runs.
const startWait = 10 * time.Second

var reg struct {
	mu        sync.Mutex
	proc      *guardianProc    // the running guardian, or nil
	links     map[uint64]*Link // what the guardian must know
	lastID    uint64
	lingering int // trees in links whose child was reaped
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

// A Link is a child registered with the guardian: its pidfd until it
// is reaped and, for a KillTree child, how to stop its tree.
type Link struct {
	id    uint64
	pidfd int // -1 once the child is reaped
	tree  Tree
}

// Process returns the guardian process that runs, or nil (tests).
func Process() *os.Process {
	reg.mu.Lock()
	defer reg.mu.Unlock()
	if reg.proc == nil {
		return nil
	}
	return reg.proc.p
}

// Kept returns how many trees of reaped children the registry keeps
// (tests).
func Kept() int {
	reg.mu.Lock()
	defer reg.mu.Unlock()
	return reg.lingering
}

// ErrSecure: a guardian would run in a secure-execution process, where a
// re-execution of this binary refuses to act.
var ErrSecure = errors.New("childproc: no guardian in a setuid, setgid or file-capability program: children cannot be made to die with their parent (use SurviveParent)")

// errSilent: the guardian ended before it said it runs.
var errSilent = errors.New("childproc: the guardian process ended as it started")

// Ready makes sure a guardian runs, starting one if needed, so that a
// child about to start can be registered.
func Ready() error {
	reg.mu.Lock()
	defer reg.mu.Unlock()
	return ensureGuardianLocked()
}

// Guard registers the child pid, which has just started and has not
// been reaped (its pid is still its own), with tree for a KillTree
// child. The returned link is released with Release once the child is
// reaped.
func Guard(pid int, tree Tree) (*Link, error) {
	if BeforeGuard != nil {
		BeforeGuard()
	}
	pidfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return nil, err
	}
	reg.mu.Lock()
	defer reg.mu.Unlock()
	reg.lastID++
	l := &Link{id: reg.lastID, pidfd: pidfd, tree: tree}
	if reg.links == nil {
		reg.links = map[uint64]*Link{}
	}
	reg.links[l.id] = l // and so registered with any guardian started from here on
	if reg.proc != nil && sendLocked(l.message()) == nil {
		return l, nil
	}
	// No guardian, or it died: a new one gets everything, this child
	// included.
	stopGuardianLocked()
	if err := ensureGuardianLocked(); err != nil {
		delete(reg.links, l.id)
		unix.Close(pidfd)
		return nil, err
	}
	return l, nil
}

// Release tells the registry that l's child has been reaped: its pidfd
// is closed; a tree stays registered, by its marker only, until no
// process carries the marker any more. A nil l is no registration.
func (l *Link) Release() {
	if l == nil {
		return
	}
	reg.mu.Lock()
	defer reg.mu.Unlock()
	unix.Close(l.pidfd)
	l.pidfd = -1
	if l.tree.Marker == "" {
		delete(reg.links, l.id)
		return // the guardian saw the child exit through its own pidfd
	}
	reg.lingering++
	if reg.lingering >= max(reg.pruneAt, minPrune) {
		pruneTreesLocked()
	}
}

// minPrune is the fewest trees of reaped children kept before a look for
// those that are gone. A look reads the environment of every process on
// the machine, and a tree kept costs a few hundred bytes here and in the
// guardian, so the looks are kept rare: a program that starts KillTree
// children by the thousand pays one look per minPrune of them.
const minPrune = 1024

// pruneTreesLocked withdraws the trees of reaped children that no live
// process belongs to any more. It looks at /proc once, so it runs only
// when the number of such trees has doubled since it last ran, and not
// before minPrune of them.
func pruneTreesLocked() {
	carried, ok := liveMarkers()
	if !ok {
		return // a marker could not be looked for: look again later
	}
	for id, l := range reg.links {
		if l.pidfd >= 0 || l.tree.Marker == "" || carried[l.tree.Marker] {
			continue
		}
		delete(reg.links, id)
		reg.lingering--
		if reg.proc != nil {
			sendLocked(guardMsg{op: opWithdraw, id: id}.line(), -1)
		}
	}
	reg.pruneAt = max(minPrune, 2*reg.lingering)
}

// message is l's registration: its line and its pidfd, or -1 once the
// child has been reaped.
func (l *Link) message() (string, int) {
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
		err := unix.Sendmsg(reg.proc.fd, []byte(line), rights, nil, unix.MSG_NOSIGNAL)
		if err != unix.EINTR {
			return err
		}
	}
}

// ensureGuardianLocked starts a guardian if none runs, and registers with
// it everything the registry holds.
func ensureGuardianLocked() error {
	if reg.proc != nil {
		return nil
	}
	if handoff.SecureExec() {
		return ErrSecure
	}
	g, err := startGuardian()
	if err != nil {
		return err
	}
	reg.proc, reg.started = g, time.Now()
	go reapGuardian(g)
	for _, l := range reg.links {
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
	if g := reg.proc; g != nil {
		g.p.Kill()
		reg.proc = nil
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
	p, err := os.StartProcess(program, []string{"childproc-guardian"}, attr)
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
	deadline := time.Now().Add(startWait)
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
			return errSilent
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
	reg.mu.Lock()
	defer reg.mu.Unlock()
	g.sock.Close() // under the lock: no registration is sent on a descriptor closed or reused
	if reg.proc != g {
		return
	}
	reg.proc = nil
	if len(reg.links) == 0 {
		return
	}
	if wait := time.Second - time.Since(reg.started); wait > 0 {
		reg.mu.Unlock()
		time.Sleep(wait)
		reg.mu.Lock()
	}
	if err := ensureGuardianLocked(); err != nil {
		// The next child that needs a guardian tries again.
		logEvent(slog.LevelError, "childproc: the guardian died and could not be replaced; running children will not die with this process until a spawn starts a new one", "children", len(reg.links), "err", err)
		return
	}
	logEvent(slog.LevelWarn, "childproc: the guardian died and was replaced", "children", len(reg.links))
}

// liveMarkers returns the tree markers that live processes carry (a
// zombie's environment reads empty), and false when /proc or an
// environment could not be read for want of a resource.
func liveMarkers() (map[string]bool, bool) {
	carried := map[string]bool{}
	pids := proctree.Pids()
	if len(pids) == 0 {
		return nil, false // /proc holds this process at least
	}
	for _, pid := range pids {
		m, ok := proctree.MarkerRead(pid)
		if !ok {
			return nil, false
		}
		if m != "" {
			carried[m] = true
		}
	}
	return carried, true
}
