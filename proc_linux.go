package childproc

import (
	"os"
	"syscall"

	"github.com/childproc/childproc/internal/fdio"
)

const isLinux = true

// signalAliases are the second names that Node's os.constants.signals
// gives signals here, which signalName does not return.
var signalAliases = map[string]syscall.Signal{"SIGIOT": syscall.SIGIOT, "SIGPOLL": syscall.SIGPOLL}

// startProcess is the one call that creates child processes. It forks
// from the calling thread, as os/exec does: no child has a parent-death
// signal, which Linux would tie to that thread (see the guardian).
func startProcess(path string, argv []string, attr *os.ProcAttr) (*os.Process, error) {
	fdio.CloseOnExecAll()
	return os.StartProcess(path, argv, attr)
}

// maxRSS returns the peak RSS in bytes; Linux counts it in KiB.
func maxRSS(state *os.ProcessState) int64 {
	if ru, ok := state.SysUsage().(*syscall.Rusage); ok {
		return ru.Maxrss * 1024
	}
	return 0
}

// selfExe names the running binary; /proc/self/exe works even if the file
// was replaced or removed since.
func selfExe() (string, error) { return "/proc/self/exe", nil }
