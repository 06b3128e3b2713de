//go:build unix && !linux

package shim

import "syscall"

// execAfter runs setup (the credentials and the limits), then executes
// path. It returns only if setup or the exec failed.
func execAfter(path string, argv, envv []string, setup func() error) error {
	if err := setup(); err != nil {
		return err
	}
	return syscall.Exec(path, argv, envv)
}
