//go:build unix && !linux

package ipc_test

import (
	"os"
	"testing"
)

// countFds counts this process's open descriptors, listed in /dev/fd. A
// /dev/fd that lists only the standard three (FreeBSD without fdescfs)
// skips the test rather than count nothing.
func countFds(t testing.TB) int {
	t.Helper()
	entries, err := os.ReadDir("/dev/fd")
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) <= 3 {
		t.Skip("/dev/fd does not list this process's descriptors")
	}
	return len(entries)
}
