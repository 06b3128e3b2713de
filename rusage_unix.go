//go:build unix

package childproc

import "syscall"

// selfPeakRSS returns this process's peak resident set size in bytes.
func selfPeakRSS() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return int64(ru.Maxrss) * maxRSSUnit
}
