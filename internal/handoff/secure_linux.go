package handoff

import (
	"os"

	"golang.org/x/sys/unix"
)

// atSecure is the auxiliary vector's AT_SECURE entry.
const atSecure = 23

// SecureExec reports whether this process runs with privileges its
// invoker lacks: the kernel's AT_SECURE, set for setuid and setgid
// programs and for file capabilities. Without an auxiliary vector it
// falls back to comparing the real and effective ids.
func SecureExec() bool {
	auxv, err := unix.Auxv()
	if err != nil {
		return os.Getuid() != os.Geteuid() || os.Getgid() != os.Getegid()
	}
	for _, kv := range auxv {
		if kv[0] == atSecure {
			return kv[1] != 0
		}
	}
	return os.Getuid() != os.Geteuid() || os.Getgid() != os.Getegid()
}
