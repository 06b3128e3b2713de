package childproc

import (
	"os"
	"syscall"

	"github.com/childproc/childproc/internal/reexec"
)

// Windows has no setrlimit: a non-empty Limits is an error there.

type shim struct{}

func startShim(l *Limits, path string, attr *os.ProcAttr) (self string, sh *shim, closeAfter *os.File, err error) {
	return "", nil, nil, syscall.EWINDOWS
}

func (sh *shim) started(proc *os.Process, err error) error { return err }

// claimShim is nil: there is no shim on Windows.
var claimShim reexec.Claim
