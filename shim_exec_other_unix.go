//go:build unix && !linux

package childproc

import "syscall"

// shimExec runs setup (the credentials and the limits), then executes
// path. It returns only if setup or the exec failed.
func shimExec(path string, argv, envv []string, setup func() error) error {
	if err := setup(); err != nil {
		return err
	}
	return syscall.Exec(path, argv, envv)
}
