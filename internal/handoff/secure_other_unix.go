//go:build unix && !linux

package handoff

import "os"

// SecureExec reports whether this process runs with privileges its
// invoker lacks: its real and effective ids differ (setuid, setgid).
func SecureExec() bool {
	return os.Getuid() != os.Geteuid() || os.Getgid() != os.Getegid()
}
