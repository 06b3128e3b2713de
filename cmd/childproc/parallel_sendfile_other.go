//go:build !linux

package main

import "os"

// sendFile copies in the kernel where childproc knows how (Linux); here
// it reports that the caller must copy.
func sendFile(dst, src *os.File, size int64) (written int64, handled bool, err error) {
	return 0, false, nil
}

// fullDisk tells a full disk on Linux only; here it returns nil.
func fullDisk(f *os.File) error { return nil }
