//go:build unix && !linux

package childproc

import (
	"errors"
	"fmt"
	"syscall"
)

// selfPeakRSS returns this process's peak resident set size in bytes.
func selfPeakRSS() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return int64(ru.Maxrss)
}

// residentBytes is not known here.
func residentBytes(pid int) (int64, error) {
	return 0, fmt.Errorf("childproc: the RSS of a running child: %w", errors.ErrUnsupported)
}
