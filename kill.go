package childproc

import (
	"context"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/childproc/childproc/internal/proctree"
)

// DefaultForceKillAfter is how long a graceful stop waits after
// KillSignal before it sends SIGKILL ([Options.ForceKillAfter]'s default).
const DefaultForceKillAfter = 5 * time.Second

// stopper is the part of a Child that signals it and its tree: it sends
// every signal and reaps the child under mu, so that no signal meets a
// reused pid, and it stops the child on Timeout and abort.
type stopper struct {
	mu        sync.Mutex // held while signalling and reaping; also guards what the lifecycle records
	proc      *os.Process
	set       *settings // the child's: its KillSignal and ForceKillAfter
	stopAbort func() bool
	timer     *time.Timer // Timeout
	pgid      int         // the child's own process group, or 0 when it shares ours
	guard     *guardLink  // the registration with the guardian, or nil
	resident  *os.File    // the child's memory counters, from the first RSS to the reap (Linux)

	tag proctree.Tag // what the child's descendants inherit (KillTree)

	// Guarded by mu.
	reaped      bool
	reapTick    uint64        // the clock tick of the reap (Linux), see proctree
	escalation  *escalation   // the SIGKILL of the graceful stop under way, or nil
	held        proctree.Hold // what the stop found of the tree, for its SIGKILL
	killed      bool
	forceKilled bool // ForceKillAfter ran out and SIGKILL reached the child
	timedOut    bool
	abortCause  error // why ctx ended the child, once it did
}

// Kill sends sig to the child; nil means [Options.KillSignal] (SIGTERM by
// default). Signal 0 checks that the child can be signalled. Where Node's
// kill returns false, Kill returns an *Error: code ESRCH wrapping
// os.ErrProcessDone once the child has been reaped, EPERM, or
// ERR_UNKNOWN_SIGNAL. The signal goes through a pidfd where the kernel has
// one, so it never reaches another process that reused the pid. Kill
// reaches the child only and does not escalate; see KillTree.
func (c *Child) Kill(sig os.Signal) error {
	if sig == nil {
		sig = c.set.killSignal
	}
	if err := checkSignal(sig); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.signalLocked(sig)
}

// KillTree signals the child's whole process tree: the child, and the
// descendants found through their parent links while the child lives.
// With [Options.KillTree] (or Detached) the tree also holds the child's
// process group, and with [Options.KillTree] every process that inherited
// its tree marker (Linux), even orphaned ones; see the package doc for
// what cannot be found. After Wait it reaches what is left of the tree:
// on Linux, members of the group that started before the child was
// reaped, processes carrying the marker, and their descendants.
//
// Every process is signalled through a pidfd opened before the check
// that it belongs to the tree, and the group only while the child has
// not been reaped, so a process that reused a pid or group number is
// never hit (Linux; elsewhere the group is the tree, and it is signalled
// only until the child is reaped).
//
// A nil sig is a graceful stop: KillSignal to the tree, then SIGKILL to
// whatever of it is left after ForceKillAfter, the way Timeout, abort and
// MaxBuffer stop a child. Without [Options.KillTree], the descendants it
// finds are held by pidfds from the first step, so that the SIGKILL still
// reaches them after the child has been reaped; with it, the SIGKILL
// finds them again through the tree marker. Once nothing of the tree is
// left, the stop ends within about 200 ms, and holds nothing of it (no
// pidfd or timer). It returns an *Error with code ESRCH when no process
// got the signal.
func (c *Child) KillTree(sig os.Signal) error {
	graceful := sig == nil
	if graceful {
		sig = c.set.killSignal
	}
	if err := checkSignal(sig); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if graceful {
		if !c.treeLocked().FindsOrphans() {
			c.holdTreeLocked() // after the reap, its SIGKILL finds none of them
		}
		return c.stopLocked()
	}
	if others, err := c.signalTreeLocked(sig); err != nil && !others {
		return err
	}
	return nil
}

// Stop stops the child gracefully and returns once it has exited: it is
// the stop that Timeout and abort make, KillSignal to the child and what
// it started (see [Child.KillTree]), then SIGKILL after ForceKillAfter to
// whatever of them is left. When ctx is done before the child has exited,
// Stop sends that SIGKILL at once and returns ctx's error. A child that
// has already exited is not signalled, and Stop returns nil. Stop does not
// wait for the child's stdio: [Child.Wait] does.
func (c *Child) Stop(ctx context.Context) error {
	c.stop(func() {})
	select {
	case <-c.Exited(): // before ctx: an exited child is nil even with ctx done
		return nil
	default:
	}
	select {
	case <-c.Exited():
		return nil
	case <-ctx.Done():
		c.forceKill()
		return ctx.Err()
	}
}

// stopOn arms the graceful stops of the child: after timeout (0: none),
// and when ctx is done.
func (s *stopper) stopOn(ctx context.Context, timeout time.Duration) {
	if timeout > 0 {
		s.timer = time.AfterFunc(timeout, func() { s.stop(func() { s.timedOut = true }) })
	}
	if ctx.Done() != nil {
		s.stopAbort = context.AfterFunc(ctx, func() {
			s.stop(func() { s.abortCause = context.Cause(ctx) })
		})
	}
}

// reap waits for the child to end and reaps it, and returns with s.mu
// held. Where the end can be awaited without reaping (Linux), the reap
// itself happens under s.mu, under which every signal is sent: until
// then the zombie keeps its pid and process group from being reused, so
// a signal sent under s.mu to a child not yet reaped reaches the child's
// own group. Timeout and abort end with the reap; a stop they began
// finds the child reaped and does nothing (neither call waits for it).
func (s *stopper) reap() (*os.ProcessState, error) {
	state, err := s.awaitReap()
	s.reaped = true
	if s.resident != nil {
		s.resident.Close()
	}
	if s.timer != nil {
		s.timer.Stop()
	}
	if s.stopAbort != nil {
		s.stopAbort()
	}
	return state, err
}

// awaitReap is reap's wait, which returns with s.mu held.
func (s *stopper) awaitReap() (*os.ProcessState, error) {
	if !proctree.AwaitExit(s.proc.Pid) {
		state, err := s.proc.Wait()
		s.mu.Lock()
		return state, err
	}
	s.mu.Lock()
	s.reapTick = proctree.ClockTick()
	return s.proc.Wait()
}

// treeLocked returns the child's tree as it stands.
func (c *stopper) treeLocked() proctree.Tree {
	t := proctree.Tree{Pgid: c.pgid, Tag: c.tag, ReapTick: c.reapTick}
	if !c.reaped {
		t.Leader = c.proc.Pid
	}
	return t
}

// signalLocked delivers sig to the child and records that it was.
func (s *stopper) signalLocked(sig os.Signal) error {
	if err := s.proc.Signal(sig); err != nil {
		return killError(err)
	}
	s.killed = true
	return nil
}

// signalTreeLocked delivers sig to the child's tree, the child included.
// The rest of the tree is found first, each process held by a pidfd,
// so that the child's death cannot orphan its children before they are
// found; then the child gets the signal (before what it started can
// react to the death of a child of its own), then the others, and once
// more those found again, for processes forked meanwhile. It reports
// whether a process other than the child got the signal, and returns the
// child's error.
func (s *stopper) signalTreeLocked(sig os.Signal) (others bool, childErr error) {
	ssig, _ := sig.(syscall.Signal)
	t := s.treeLocked()
	members := t.Find()
	childErr = s.signalLocked(sig)
	n := t.Signal(members, ssig)
	if n > 0 || childErr == nil {
		// A second look reaches what forked meanwhile; what the first
		// reached is left out, so that each process gets sig once.
		fresh, seen := proctree.Split(t.Find(), members)
		proctree.Tree{}.Signal(seen, 0) // closes their pidfds
		proctree.Tree{}.Signal(fresh, ssig)
	}
	return n > 0, childErr
}

// stop is the graceful stop of Timeout, abort and MaxBuffer (see
// [stopper.stopLocked]). A child already reaped is not stopped: Timeout and
// abort end with the reap, and a MaxBuffer passed afterwards (by a
// grandchild's output) only ends the reading. mark records why, once the
// signal was delivered. Once the child has exited, Wait waits for its
// stdio at most StopWaitDelay, so that a grandchild holding the pipes
// cannot delay it.
func (s *stopper) stop(mark func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.reaped {
		return
	}
	s.holdTreeLocked()
	if s.stopLocked() == nil {
		mark()
	}
}

// stopLocked is a graceful stop: it sends KillSignal to the child's tree
// (see [Child.KillTree]) and schedules the SIGKILL after ForceKillAfter
// to what is left of it, and of what holdTreeLocked pinned. The stop ends
// with that SIGKILL, or as soon as nothing of the tree is left (see
// [stopper.checkTree]). It returns the child's error when no process got
// the signal.
func (s *stopper) stopLocked() error {
	others, err := s.signalTreeLocked(s.set.killSignal)
	if err == nil || others {
		s.armForceKillLocked()
	}
	if s.escalation == nil {
		s.held.Release() // no SIGKILL to come
	}
	if others {
		return nil
	}
	return err
}

// holdTreeLocked pins, through pidfds, the processes of the child's tree
// as the stop finds them, so that its SIGKILL still reaches them after the
// child has been reaped: a shell that dies of KillSignal must not leave
// behind a process that ignores it.
func (s *stopper) holdTreeLocked() {
	s.held.Add(s.treeLocked().Find())
}

// An escalation is the SIGKILL that a graceful stop sends after
// ForceKillAfter to what is left of the child's tree, and the checks that
// end the stop sooner once nothing of the tree is left.
type escalation struct {
	timer *time.Timer // the SIGKILL
	check *time.Timer // the next look at the tree
}

// The first look at the tree of a graceful stop comes after
// firstTreeCheck; each later one twice as late as the one before, at
// most maxTreeCheck.
const (
	firstTreeCheck = 10 * time.Millisecond
	maxTreeCheck   = 200 * time.Millisecond
)

// armForceKillLocked schedules the SIGKILL of a graceful stop, unless one
// is under way, and the checks that end the stop once the tree is gone.
func (s *stopper) armForceKillLocked() {
	d := s.set.forceKillAfter
	if d <= 0 || s.escalation != nil || s.set.killSignal == syscall.SIGKILL {
		return
	}
	e := &escalation{}
	e.timer = time.AfterFunc(d, func() { s.escalate(e) })
	s.escalation = e
	s.checkTreeLater(e, firstTreeCheck)
}

// escalate sends e's SIGKILL, unless the stop it belongs to has ended.
func (s *stopper) escalate(e *escalation) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.escalation == e {
		s.forceKillLocked()
	}
}

// checkTreeLater looks at the tree of e's stop after d.
func (s *stopper) checkTreeLater(e *escalation, d time.Duration) {
	e.check = time.AfterFunc(d, func() { s.checkTree(e, min(2*d, maxTreeCheck)) })
}

// checkTree pins what the stop's pinned processes started since, ends
// e's stop if nothing of the child's tree is left, and else looks again
// after next. So a tree that dies of KillSignal leaves
// nothing of its stop (no pidfd, no timer) within about maxTreeCheck of
// its end, long before the SIGKILL was due, while the SIGKILL still
// reaches a process that ignores KillSignal. Between two looks the stop
// holds no goroutine, and no pidfd but those it pinned.
func (s *stopper) checkTree(e *escalation, next time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.escalation != e {
		return // the SIGKILL has come
	}
	s.holdDescendantsLocked()
	if s.treeGoneLocked() {
		s.endStopLocked()
		return
	}
	s.checkTreeLater(e, next)
}

// holdDescendantsLocked pins, besides what the stop pinned, the processes
// those started since, so that the SIGKILL reaches a process a pinned
// member forked after KillSignal even once its parent has exited (unless
// the tree finds orphans, nothing else finds it after the child's reap;
// if it does, no look is spent on it).
func (c *stopper) holdDescendantsLocked() {
	c.held.Prune()
	if !c.treeLocked().FindsOrphans() {
		c.held.Add(c.held.Descendants())
	}
}

// treeGoneLocked reports whether nothing of the child's tree is left: the
// child has been reaped, every process the stop pinned has exited, no
// process is left in its group, and no other member is found.
func (s *stopper) treeGoneLocked() bool {
	if !s.reaped {
		return false
	}
	if s.held.Prune(); s.held.Len() > 0 {
		return false
	}
	t := s.treeLocked()
	if t.GroupLeft() {
		return false
	}
	left := t.Find()
	proctree.Tree{}.Signal(left, 0) // closes their pidfds
	return len(left) == 0
}

// forceKill sends SIGKILL to what is left of the child's tree, and to the
// child if it has not been reaped, and ends the stop under way.
func (s *stopper) forceKill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forceKillLocked()
}

// forceKillLocked is forceKill, with s.mu held.
func (s *stopper) forceKillLocked() {
	if _, err := s.signalTreeLocked(syscall.SIGKILL); err == nil {
		s.forceKilled = true
	}
	s.holdDescendantsLocked()
	s.held.Signal(syscall.SIGKILL)
	s.killGroupLeftLocked()
	s.endStopLocked()
}

// maxKillLooks bounds the further looks of a SIGKILL whose group is not
// empty yet.
const maxKillLooks = 10

// killGroupLeftLocked reaches the members of the child's group that a
// look at the tree missed: a member that forks its successor and exits
// can be missed by one look, but not by kill(-pgid). While the child is
// not reaped, its group gets SIGKILL itself (its zombie keeps the group
// ours); after the reap, later looks send SIGKILL to what they find while
// the group still has a process, at most maxKillLooks times (processes
// killed a moment ago may still be in it).
func (s *stopper) killGroupLeftLocked() {
	t := s.treeLocked()
	if t.Leader != 0 {
		t.SignalGroup(syscall.SIGKILL)
		return
	}
	for i := 0; i < maxKillLooks && t.GroupLeft(); i++ {
		proctree.Tree{}.Signal(t.Find(), syscall.SIGKILL) // closes their pidfds
	}
}

// endStopLocked ends the graceful stop under way: its SIGKILL is
// cancelled and what it held of the tree released.
func (s *stopper) endStopLocked() {
	if e := s.escalation; e != nil {
		e.timer.Stop()
		e.check.Stop()
		s.escalation = nil
	}
	s.held.Release()
}

// abandon kills and reaps a child that could not be guarded, with what it
// has already started.
func (s *stopper) abandon() {
	s.mu.Lock()
	s.signalTreeLocked(syscall.SIGKILL)
	s.mu.Unlock()
	s.proc.Wait()
}

// Killed reports whether Kill (or Timeout, abort or MaxBuffer) delivered a
// signal to the child. It does not mean the child has ended.
func (c *Child) Killed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.killed
}
