//go:build linux

package childproc

import (
	"reflect"
	"syscall"
	"testing"
	"time"
)

// Bytes that reach one process from another: the shim's orders (from the
// parent, in the environment), the shim's status (from the shim, on a
// pipe) and the guardian's lines (from the parent, on a pipe). None may
// make its reader panic, and what the writer writes must read back.

func FuzzShimOrders(f *testing.F) {
	f.Add(shimSpec(3, &Limits{Memory: 1 << 20, CPUTime: time.Second, DisableCoreDumps: true}, "/bin/true"))
	f.Add(shimSpec(7, &Limits{}, "/path with\nnewline"))
	f.Add("1\n3\n9=1:2,x\n/bin/sh")
	f.Add("1\n03\n\n/p")
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

func FuzzGuardLine(f *testing.F) {
	f.Add(guarded{pgid: 1234, sig: syscall.SIGTERM, delay: 5 * time.Second, marker: "99.1"}.line())
	f.Add(unguardLine(1234))
	f.Add("+1 15 0 x")
	f.Add("+77 9 -5 m a r k")
	f.Fuzz(func(t *testing.T, line string) {
		if len(line) > 0 && line[len(line)-1] == '\n' {
			line = line[:len(line)-1] // the guardian reads lines without it
		}
		g, add, ok := parseGuardLine(line)
		if !ok {
			return
		}
		if g.pgid <= 1 {
			t.Fatalf("%q accepted with process group %d", line, g.pgid)
		}
		written := unguardLine(g.pgid)
		if add {
			written = g.line()
		}
		g2, add2, ok2 := parseGuardLine(written[:len(written)-1])
		if !ok2 || add2 != add || g2 != g {
			t.Fatalf("%q read as %+v; written back as %q it reads as %+v", line, g, written, g2)
		}
	})
}
