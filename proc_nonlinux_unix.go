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

// childPipe makes a pipe whose one end goes to a child: see the Linux
// version. Without pipe2, close-on-exec is set under syscall.ForkLock.
func childPipe(childReads bool) (parent, child *os.File, err error) {
	var p [2]int
	syscall.ForkLock.RLock()
	err = syscall.Pipe(p[:])
	if err == nil {
		syscall.CloseOnExec(p[0])
		syscall.CloseOnExec(p[1])
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return nil, nil, err
	}
	pr, pw := p[0], p[1]
	pfd, cfd := pw, pr
	if !childReads {
		pfd, cfd = pr, pw
	}
	if err := syscall.SetNonblock(pfd, true); err != nil {
		syscall.Close(pr)
		syscall.Close(pw)
		return nil, nil, err
	}
	return os.NewFile(uintptr(pfd), "|1"), os.NewFile(uintptr(cfd), "|0"), nil
}
