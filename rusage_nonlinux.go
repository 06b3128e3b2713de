//go:build !linux

package childproc

import (
	"errors"
	"fmt"
	"os"
)

// errNoResident: the resident set size of a running child is not known
// here.
var errNoResident = fmt.Errorf("childproc: the RSS of a running child: %w", errors.ErrUnsupported)

func openResident(pid int) (*os.File, error) { return nil, errNoResident }

func readResident(f *os.File) (int64, error) { return 0, errNoResident }
