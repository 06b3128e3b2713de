//go:build unix && !linux

package shim

import "os"

// CanSetGroups reports whether this process may call setgroups(2).
func CanSetGroups() bool { return os.Geteuid() == 0 }
