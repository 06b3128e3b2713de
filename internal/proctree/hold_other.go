//go:build !linux

package proctree

import (
	"os"
	"syscall"
)

// Without pidfds a Hold is never given a member; these are never called.

func pollable(pidfd int) *os.File                   { return os.NewFile(uintptr(pidfd), "pidfd") }
func signalPidfd(pidfd uintptr, sig syscall.Signal) {}
func exited(pidfd uintptr) bool                     { return true }
func awaitPidfd(pidfd uintptr)                      {}
