//go:build unix && !linux

package childproc

import "os"

// secureExec reports whether this process runs with privileges its
// invoker lacks: its real and effective ids differ (setuid, setgid).
func secureExec() bool {
	return os.Getuid() != os.Geteuid() || os.Getgid() != os.Getegid()
}
