//go:build unix

package shim

import "syscall"

// credOf takes the credentials out of sys, for the shim to take on.
func credOf(sys *syscall.SysProcAttr) *Cred {
	c := sys.Credential
	sys.Credential = nil
	if c == nil {
		return nil
	}
	return &Cred{UID: c.Uid, GID: c.Gid}
}

// change makes the process run as c, as os.StartProcess does for a
// Credential: supplementary groups are dropped where this process may
// (it has CAP_SETGID), then the gid and the uid are set.
func (c *Cred) change() error {
	if CanSetGroups() {
		if err := syscall.Setgroups(nil); err != nil {
			return err
		}
	}
	if err := syscall.Setgid(int(c.GID)); err != nil {
		return err
	}
	return syscall.Setuid(int(c.UID))
}
