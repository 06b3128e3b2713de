package proctree

import (
	"slices"
	"syscall"
)

// A Hold keeps members of a tree through their pidfds, so that a signal
// sent later (the SIGKILL of a graceful stop) still reaches them after
// the child was reaped, and tells when they have exited. It is not safe
// for concurrent use.
type Hold struct{ held []Member }

// Add takes found into h, with their pidfds: a member that h holds
// already is released.
func (h *Hold) Add(found []Member) {
	for _, m := range found {
		if h.holds(m.Pid) {
			m.Release()
			continue
		}
		h.held = append(h.held, m)
	}
}

// holds reports whether h holds the process pid.
func (h *Hold) holds(pid int) bool {
	return slices.ContainsFunc(h.held, func(m Member) bool { return m.Pid == pid })
}

// Len returns how many members h holds.
func (h *Hold) Len() int { return len(h.held) }

// Signal sends sig to every member of h, then releases them all.
func (h *Hold) Signal(sig syscall.Signal) {
	Tree{}.Signal(h.held, sig) // closes their pidfds
	h.held = nil
}

// Release closes the pidfds of h's members and empties h.
func (h *Hold) Release() {
	for _, m := range h.held {
		m.Release()
	}
	h.held = nil
}

// Prune releases the members of h that have exited.
func (h *Hold) Prune() {
	kept := h.held[:0]
	for _, m := range h.held {
		if m.exited() {
			m.Release()
		} else {
			kept = append(kept, m)
		}
	}
	clear(h.held[len(kept):])
	h.held = kept
}
