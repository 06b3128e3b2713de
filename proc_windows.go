package childproc

import (
	"os"
	"os/exec"
	"strings"
	"syscall"
)

// DefaultShell is the shell of Exec, ExecSync and [Options.Shell]'s
// default: Node's shell: true.
const DefaultShell = "cmd.exe"

// shellArgs returns the arguments that make shell run command.
func shellArgs(shell, command string) []string {
	base := strings.ToLower(shell[strings.LastIndexAny(shell, `\/`)+1:])
	if base == "cmd" || base == "cmd.exe" {
		return []string{"/d", "/s", "/c", `"` + command + `"`}
	}
	return []string{"-c", command}
}

func sysProcAttr(set *settings) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{HideWindow: set.WindowsHide}
}

func startProcess(path string, argv []string, attr *os.ProcAttr) (*os.Process, error) {
	if attr.Sys != nil && len(argv) > 0 && verbatim(argv) {
		attr.Sys.CmdLine = strings.Join(argv, " ")
	}
	return os.StartProcess(path, argv, attr)
}

// verbatim reports whether argv is a cmd.exe command line, which Node
// always passes without quoting.
func verbatim(argv []string) bool {
	return len(argv) >= 4 && argv[1] == "/d" && argv[2] == "/s" && argv[3] == "/c"
}

func exitStatus(state *os.ProcessState) (int, string) { return state.ExitCode(), "" }

var signalNames = map[syscall.Signal]string{
	syscall.SIGINT: "SIGINT", syscall.SIGKILL: "SIGKILL", syscall.SIGTERM: "SIGTERM",
	syscall.SIGHUP: "SIGHUP", syscall.SIGQUIT: "SIGQUIT",
}

func signalName(sig os.Signal) string {
	if s, ok := sig.(syscall.Signal); ok {
		return signalNames[s]
	}
	return ""
}

func signalNumber(name string) syscall.Signal {
	for s, n := range signalNames {
		if n == name {
			return s
		}
	}
	return 0
}

func errnoName(errno syscall.Errno) string {
	switch errno {
	case syscall.ERROR_FILE_NOT_FOUND, syscall.ERROR_PATH_NOT_FOUND:
		return "ENOENT"
	case syscall.ERROR_ACCESS_DENIED:
		return "EACCES"
	}
	if name, ok := errnoNames[errno]; ok {
		return name
	}
	return "UNKNOWN"
}

// errnoNames holds the errno values childproc itself reports on Windows.
var errnoNames = map[syscall.Errno]string{
	syscall.ETIMEDOUT: "ETIMEDOUT", syscall.ENOBUFS: "ENOBUFS", syscall.ESRCH: "ESRCH", syscall.EINVAL: "EINVAL",
}

func lookPath(file string, env []string, cwd string) (string, error) { return exec.LookPath(file) }

func maxRSS(state *os.ProcessState) int64 { return 0 }

func selfExe() (string, error) { return os.Executable() }
