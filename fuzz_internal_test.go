//go:build linux

package childproc

import "testing"

// Bytes that reach one process from another: a forked entry's report
// (from the child, on its handoff socket; the shim's orders and status
// are internal/shim's, the guardian's lines internal/guardian's). None
// may make its reader panic, and what the writer writes must read back.

// FuzzEntryReport: a forked entry's report reads back as it was written,
// and a message never exceeds maxEntryMessage.
func FuzzEntryReport(f *testing.F) {
	f.Add([]byte(""))
	f.Add([]byte("c"))
	f.Add([]byte("cr"))
	f.Add([]byte("cre"))
	f.Add([]byte("creentry failed on purpose"))
	f.Add([]byte("ce"))
	f.Add([]byte("rc"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, ok := parseEntryReport(data)
		if !ok {
			return
		}
		if len(r.message) > maxEntryMessage || r.message != "" && r.stage != entryFailed {
			t.Fatalf("%q read as %+v", data, r)
		}
		if got := r.encode(); string(got) != string(data) {
			t.Fatalf("%q read as %+v, which writes back as %q", data, r, got)
		}
	})
}
