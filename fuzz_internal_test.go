//go:build linux

package childproc

import (
	"reflect"
	"syscall"
	"testing"
	"time"
)

// Bytes that reach one process from another: the shim's orders (from the
// parent, on the handoff socket), the shim's status and a forked entry's
// report (from the child, on the same socket); the guardian's lines are
// internal/guardian's. None may make its reader panic, and what the
// writer writes must read back.

func FuzzShimOrders(f *testing.F) {
	f.Add(newShimOrders(&Limits{Memory: 1 << 20, CPUTime: time.Second, DisableCoreDumps: true}, nil, "/bin/true").encode())
	f.Add(newShimOrders(&Limits{OpenFiles: 64}, &syscall.Credential{Uid: 65534, Gid: 4294967295}, "/usr/bin/id").encode())
	f.Add(newShimOrders(&Limits{}, nil, "/path with\nnewline").encode())
	f.Add("2\n9=1:2,x\n\n/bin/sh")
	f.Add("2\n\n01:2\n/p")
	f.Add("2\n\n1:4294967296\n/p")
	f.Fuzz(func(t *testing.T, spec string) {
		o, ok := parseShimOrders(spec)
		if !ok {
			return
		}
		if o.encode() != spec {
			t.Fatalf("%q read as %+v, which writes back as %q", spec, o, o.encode())
		}
		again, ok := parseShimOrders(o.encode())
		if !ok || !reflect.DeepEqual(again, o) {
			t.Fatalf("%+v does not read back: %+v", o, again)
		}
	})
}

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

func FuzzShimStatus(f *testing.F) {
	f.Add([]byte(""))
	f.Add([]byte("2"))
	f.Add([]byte("-1"))
	f.Add([]byte("99999999999999999999"))
	f.Fuzz(func(t *testing.T, data []byte) {
		errno := parseShimStatus(data)
		if (errno == 0) != (len(data) == 0) {
			t.Fatalf("%q read as errno %d: only no bytes at all means success", data, errno)
		}
	})
}
