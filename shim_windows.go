package childproc

import (
	"os"
	"syscall"

	"github.com/childproc/childproc/internal/shim"
)

// Windows has no setrlimit: a non-empty Limits is an error there.
func startShim(l *Limits, path string, attr *os.ProcAttr) (self string, sh *shim.Shim, closeAfter *os.File, err error) {
	return "", nil, nil, syscall.EWINDOWS
}
