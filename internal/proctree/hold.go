package proctree

import (
	"os"
	"slices"
	"syscall"
)

// A Hold keeps members of a tree through their pidfds, so that a signal
// sent later (the SIGKILL of a graceful stop) still reaches them after
// the child was reaped, and tells when they have exited. Each pidfd is in
// Go's poller, so waiting for an exit takes no thread. A Hold is used
// under one lock of the caller's; the Exits it returns are waited for
// outside that lock.
type Hold struct{ held []heldMember }

// A heldMember is a member of a Hold.
type heldMember struct {
	pid   int
	pidfd *os.File
}

// Add takes found into h, with their pidfds: a member that h holds
// already is released.
func (h *Hold) Add(found []Member) {
	for _, m := range found {
		if h.holds(m.Pid) {
			m.Release()
			continue
		}
		h.held = append(h.held, heldMember{m.Pid, pollable(m.Fd)})
	}
}

// holds reports whether h holds the process pid.
func (h *Hold) holds(pid int) bool {
	return slices.ContainsFunc(h.held, func(m heldMember) bool { return m.pid == pid })
}

// Len returns how many members h holds.
func (h *Hold) Len() int { return len(h.held) }

// Signal sends sig to every member of h, then releases them all.
func (h *Hold) Signal(sig syscall.Signal) {
	for _, m := range h.held {
		if rc, err := m.pidfd.SyscallConn(); err == nil {
			rc.Control(func(fd uintptr) { signalPidfd(fd, sig) })
		}
	}
	h.Release()
}

// Release closes the pidfds of h's members and empties h.
func (h *Hold) Release() {
	for _, m := range h.held {
		m.pidfd.Close()
	}
	h.held = nil
}

// Prune releases the members of h that have exited.
func (h *Hold) Prune() {
	kept := h.held[:0]
	for _, m := range h.held {
		if hasExited(m.pidfd) {
			m.pidfd.Close()
		} else {
			kept = append(kept, m)
		}
	}
	clear(h.held[len(kept):])
	h.held = kept
}

// Exits returns the members h holds now, to wait for their exit.
func (h *Hold) Exits() Exits {
	e := make(Exits, len(h.held))
	for i, m := range h.held {
		e[i] = m.pidfd
	}
	return e
}

// Exits are the pidfds of processes whose exit is awaited.
type Exits []*os.File

// Wait blocks until each process of e has exited or its pidfd has been
// released.
func (e Exits) Wait() {
	for _, pidfd := range e {
		awaitExit(pidfd)
	}
}

// awaitExit blocks until the process of pidfd has exited or pidfd has
// been closed: in Go's poller, or, for a pidfd that could not be put
// there, in poll(2) (Control fails at once on a closed pidfd).
func awaitExit(pidfd *os.File) {
	rc, err := pidfd.SyscallConn()
	if err != nil || rc.Read(exited) == nil {
		return
	}
	rc.Control(awaitPidfd)
}

// hasExited reports whether the process of pidfd has exited.
func hasExited(pidfd *os.File) bool {
	rc, err := pidfd.SyscallConn()
	if err != nil {
		return true
	}
	done := true
	rc.Control(func(fd uintptr) { done = exited(fd) })
	return done
}
