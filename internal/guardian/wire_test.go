package guardian

import (
	"syscall"
	"testing"
	"time"
)

// The guardian's lines reach it from the parent, on its handoff socket:
// none may make it panic, and what the parent writes must read back.
func FuzzGuardLine(f *testing.F) {
	tree := Tree{Signal: syscall.SIGTERM, Delay: 5 * time.Second, Marker: "99.1"}
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
		if m.id == 0 || m.op == opTree && m.tree.Marker == "" || m.op == opWithdraw && m.tree.Marker != "" {
			t.Fatalf("%q accepted as %+v", line, m)
		}
		if written := m.line(); written != line+"\n" {
			t.Fatalf("%q read as %+v, which writes back as %q", line, m, written)
		}
	})
}
