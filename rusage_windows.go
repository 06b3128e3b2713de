package childproc

import (
	"errors"
	"fmt"
)

// selfPeakRSS returns 0: Windows children report no peak RSS.
func selfPeakRSS() int64 { return 0 }

// residentBytes is not known here.
func residentBytes(pid int) (int64, error) {
	return 0, fmt.Errorf("childproc: the RSS of a running child: %w", errors.ErrUnsupported)
}
