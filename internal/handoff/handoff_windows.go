package handoff

import (
	"os"
	"syscall"
)

// Windows has no handoff: its children get no descriptors beyond stdio,
// and none of childproc's own modes (the Limits shim, the guardian, a
// forked entry) exists there.

func Offer(attr *os.ProcAttr) (parent, child *os.File, value string, err error) {
	return nil, nil, "", syscall.EWINDOWS
}

func Prove(v string) (*os.File, error) { return nil, nil }

func SendOrders(parent *os.File, orders string) error { return syscall.EWINDOWS }

func ReadHeld(f *os.File, limit int) []byte { return nil }

// SecureExec is false: Windows has no setuid programs.
func SecureExec() bool { return false }
