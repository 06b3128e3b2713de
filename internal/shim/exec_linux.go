package shim

import (
	"syscall"
	"unsafe"
)

// execAfter is what the shim does once its orders are read: it prepares
// the exec of path (argv, envv) first, then runs setup (the credentials
// and the limits), then executes. Nothing is allocated between setup and
// the exec: under a memory limit lower than what the Go runtime already
// holds, an allocation there could fail in the shim itself, before the
// target ever ran. It returns only if setup or the exec failed.
func execAfter(path string, argv, envv []string, setup func() error) error {
	p, err := syscall.BytePtrFromString(path)
	if err != nil {
		return err
	}
	a, err := syscall.SlicePtrFromStrings(argv)
	if err != nil {
		return err
	}
	e, err := syscall.SlicePtrFromStrings(envv)
	if err != nil {
		return err
	}
	if err := setup(); err != nil {
		return err
	}
	_, _, errno := syscall.RawSyscall(syscall.SYS_EXECVE, uintptr(unsafe.Pointer(p)), uintptr(unsafe.Pointer(&a[0])), uintptr(unsafe.Pointer(&e[0])))
	return errno
}
