package ipc_test

import (
	"os"
	"testing"
)

// countFds counts this process's open descriptors.
func countFds(t testing.TB) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}
