package childproc

import (
	"os"
	"syscall"
)

// Windows has no handoff: its children get no descriptors beyond stdio,
// and none of childproc's own modes (the Limits shim, the guardian, a
// forked entry) exists there.

func offerHandoff(key string, attr *os.ProcAttr) (parent, child *os.File, err error) {
	return nil, nil, syscall.EWINDOWS
}

func claimHandoff(key string) (*os.File, bool) {
	os.Unsetenv(key)
	return nil, false
}

func sendOrders(parent *os.File, orders string) error { return syscall.EWINDOWS }

func readSocketNow(f *os.File, limit int) []byte { return nil }

// secureExec is false: Windows has no setuid programs.
func secureExec() bool { return false }
