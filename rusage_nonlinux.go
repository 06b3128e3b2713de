//go:build !linux

package childproc

import (
	"errors"
	"fmt"
)

// residentBytes is not known here.
func residentBytes(pid int) (int64, error) {
	return 0, fmt.Errorf("childproc: the RSS of a running child: %w", errors.ErrUnsupported)
}
