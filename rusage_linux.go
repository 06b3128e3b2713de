package childproc

import (
	"bytes"
	"os"
	"strconv"
	"syscall"
)

// maxRSSUnit is the unit of getrusage's ru_maxrss in bytes: KiB.
const maxRSSUnit = 1024

// residentBytes reads the resident set size of process pid: the second
// field of /proc/<pid>/statm, in pages.
func residentBytes(pid int) (int64, error) {
	path := "/proc/" + strconv.Itoa(pid) + "/statm"
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, sysError("open", path, err)
	}
	var pages int64 = -1
	if fields := bytes.Fields(b); len(fields) >= 2 {
		if n, err := strconv.ParseInt(string(fields[1]), 10, 64); err == nil {
			pages = n
		}
	}
	if pages < 0 {
		return 0, sysError("read", path, syscall.EINVAL)
	}
	return pages * int64(os.Getpagesize()), nil
}
