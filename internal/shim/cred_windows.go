package shim

import "syscall"

// credOf finds no credentials: Windows has none to take on.
func credOf(sys *syscall.SysProcAttr) *Cred { return nil }
