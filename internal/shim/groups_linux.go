package shim

import (
	"os"

	"golang.org/x/sys/unix"
)

// CanSetGroups reports whether this process may call setgroups(2): it has
// CAP_SETGID.
func CanSetGroups() bool {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return os.Geteuid() == 0
	}
	return data[0].Effective&(1<<unix.CAP_SETGID) != 0
}
