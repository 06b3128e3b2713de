package pool

import (
	"bytes"
	"os"
	"strconv"
)

// rssFile is the file that gives a worker's resident memory.
type rssFile struct{ f *os.File }

// openRSS opens /proc/pid/statm. The caller makes sure pid is still its
// child's (not reaped) once the file is open.
func openRSS(pid int) rssFile {
	f, _ := os.Open("/proc/" + strconv.Itoa(pid) + "/statm")
	return rssFile{f}
}

// read returns the resident memory in bytes, or -1 if it cannot tell.
func (r rssFile) read() int64 {
	if r.f == nil {
		return -1
	}
	var buf [128]byte
	n, _ := r.f.ReadAt(buf[:], 0)
	fields := bytes.Fields(buf[:n])
	if len(fields) < 2 {
		return -1
	}
	pages, err := strconv.ParseInt(string(fields[1]), 10, 64)
	if err != nil {
		return -1
	}
	return pages * int64(os.Getpagesize())
}

func (r rssFile) close() {
	if r.f != nil {
		r.f.Close()
	}
}
