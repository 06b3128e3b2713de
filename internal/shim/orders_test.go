//go:build unix

package shim

import (
	"reflect"
	"testing"

	"golang.org/x/sys/unix"
)

// Bytes that reach one process from another: the shim's orders (from the
// parent, on the handoff socket) and the shim's status (from the shim,
// on the same socket). Neither may make its reader panic, and what the
// writer writes must read back.

func FuzzShimOrders(f *testing.F) {
	f.Add(Orders{Limits: []Limit{{unix.RLIMIT_DATA, 1 << 20, 1 << 20}, {unix.RLIMIT_CPU, 1, 2}, {unix.RLIMIT_CORE, 0, 0}}, Path: "/bin/true"}.encode())
	f.Add(Orders{Limits: []Limit{{unix.RLIMIT_NOFILE, 64, 64}}, Cred: &Cred{UID: 65534, GID: 4294967295}, Path: "/usr/bin/id"}.encode())
	f.Add(Orders{Path: "/path with\nnewline"}.encode())
	f.Add("2\n9=1:2,x\n\n/bin/sh")
	f.Add("2\n\n01:2\n/p")
	f.Add("2\n\n1:4294967296\n/p")
	f.Fuzz(func(t *testing.T, spec string) {
		o, ok := parseOrders(spec)
		if !ok {
			return
		}
		if o.encode() != spec {
			t.Fatalf("%q read as %+v, which writes back as %q", spec, o, o.encode())
		}
		again, ok := parseOrders(o.encode())
		if !ok || !reflect.DeepEqual(again, o) {
			t.Fatalf("%+v does not read back: %+v", o, again)
		}
	})
}

func FuzzShimStatus(f *testing.F) {
	f.Add([]byte(""))
	f.Add([]byte("2"))
	f.Add([]byte("-1"))
	f.Add([]byte("99999999999999999999"))
	f.Fuzz(func(t *testing.T, data []byte) {
		errno := parseStatus(data)
		if (errno == 0) != (len(data) == 0) {
			t.Fatalf("%q read as errno %d: only no bytes at all means success", data, errno)
		}
	})
}
