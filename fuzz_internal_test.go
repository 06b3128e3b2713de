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
// pipe) and the guardian's lines (from the parent, on a socket). None may
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
	tree := treeStop{sig: syscall.SIGTERM, delay: 5 * time.Second, marker: "99.1"}
	f.Add(guardMsg{op: opChild, id: 1234}.line())
	f.Add(guardMsg{op: opChild, id: 7, tree: tree}.line())
	f.Add(guardMsg{op: opTree, id: 8, tree: tree}.line())
	f.Add(guardMsg{op: opWithdraw, id: 1234}.line())
	f.Add("+1 15 0 x")
	f.Add("*77 9 -5 m a r k")
	f.Add("-01")
	f.Fuzz(func(t *testing.T, line string) {
		if len(line) > 0 && line[len(line)-1] == '\n' {
			line = line[:len(line)-1] // the guardian reads lines without it
		}
		m, ok := parseGuardLine(line)
		if !ok {
			return
		}
		if m.id == 0 || m.op == opTree && m.tree.marker == "" || m.op == opWithdraw && m.tree.marker != "" {
			t.Fatalf("%q accepted as %+v", line, m)
		}
		if written := m.line(); written != line+"\n" {
			t.Fatalf("%q read as %+v, which writes back as %q", line, m, written)
		}
	})
}
