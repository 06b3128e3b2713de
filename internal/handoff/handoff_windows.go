package handoff

import (
	"os"
	"syscall"
)

// Windows has no handoff: its children get no descriptors beyond stdio,
// and none of childproc's own modes (the Limits shim, the guardian, a
// forked entry) exists there.

func Offer(key string, attr *os.ProcAttr) (parent, child *os.File, err error) {
	return nil, nil, syscall.EWINDOWS
}

func Claim(key string) (*os.File, bool) {
	os.Unsetenv(key)
	return nil, false
}

func SendOrders(parent *os.File, orders string) error { return syscall.EWINDOWS }

func ReadHeld(f *os.File, limit int) []byte { return nil }

// SecureExec is false: Windows has no setuid programs.
func SecureExec() bool { return false }
