//go:build unix && !linux

package childproc

import (
	"os"
	"syscall"
)

const isLinux = false

// signalAliases are the second names that Node's os.constants.signals
// gives signals here, which signalName does not return.
var signalAliases = map[string]syscall.Signal{"SIGIOT": syscall.SIGIOT}

// startProcess is the one call that creates child processes.
func startProcess(path string, argv []string, attr *os.ProcAttr) (*os.Process, error) {
	return os.StartProcess(path, argv, attr)
}

// maxRSS returns the peak RSS in bytes; the BSDs count it in bytes.
func maxRSS(state *os.ProcessState) int64 {
	if ru, ok := state.SysUsage().(*syscall.Rusage); ok {
		return int64(ru.Maxrss)
	}
	return 0
}

func selfExe() (string, error) { return os.Executable() }
