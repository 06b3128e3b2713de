//go:build !linux

package proctree

// exited is never called: without pidfds a Hold is never given a member.
func (m Member) exited() bool { return true }

// Descendants finds none: without pidfds a Hold is never given a member.
func (h *Hold) Descendants() []Member { return nil }
