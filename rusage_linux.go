package childproc

import (
	"bytes"
	"os"
	"strconv"
	"syscall"
)

// maxRSSUnit is the unit of getrusage's ru_maxrss in bytes: KiB.
const maxRSSUnit = 1024

// openResident opens /proc/<pid>/statm, which gives the resident set
// size of process pid. Opened while the child is not reaped, the file
// keeps reading that process, never one that reuses the pid later.
func openResident(pid int) (*os.File, error) {
	path := "/proc/" + strconv.Itoa(pid) + "/statm"
	f, err := os.Open(path)
	if err != nil {
		return nil, sysError("open", path, err)
	}
	return f, nil
}

// readResident reads the resident set size from f, a statm file: its
// second field, in pages.
func readResident(f *os.File) (int64, error) {
	var buf [256]byte
	n, err := f.ReadAt(buf[:], 0)
	if n == 0 && err != nil {
		return 0, sysError("read", f.Name(), err)
	}
	var pages int64 = -1
	if fields := bytes.Fields(buf[:n]); len(fields) >= 2 {
		if p, err := strconv.ParseInt(string(fields[1]), 10, 64); err == nil {
			pages = p
		}
	}
	if pages < 0 {
		return 0, sysError("read", f.Name(), syscall.EINVAL)
	}
	return pages * int64(os.Getpagesize()), nil
}
