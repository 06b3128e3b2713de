//go:build unix && !linux

package childproc

import (
	"os"
	"syscall"
)

const isLinux = false

// setParentDeathSignal does nothing: only Linux has a parent-death signal.
func setParentDeathSignal(attr *syscall.SysProcAttr) {}

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
