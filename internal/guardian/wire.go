package guardian

import (
	"math"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The parent's lines. Each is one sendmsg, so a pidfd arrives with the
// first byte of its line, and pidfds arrive in the order of their lines.
const (
	opChild    = '+' // a child, its pidfd attached: "+<id>", or "+<id> <tree>"
	opTree     = '*' // the tree of a child already reaped: "*<id> <tree>"
	opWithdraw = '-' // a tree that is gone: "-<id>"
)

// guardMsg is one line from the parent; <tree> is "<signal> <delay ms>
// <marker>".
type guardMsg struct {
	op   byte
	id   uint64
	tree Tree
}

// line encodes m, newline included.
func (m guardMsg) line() string {
	s := string(m.op) + strconv.FormatUint(m.id, 10)
	if m.tree.Marker != "" {
		s += " " + strconv.Itoa(int(m.tree.Signal)) + " " + strconv.FormatInt(int64(m.tree.Delay/time.Millisecond), 10) + " " + m.tree.Marker
	}
	return s + "\n"
}

// parseGuardLine reads one line (without its newline) as line writes it;
// anything else, numbers not in canonical form included, is not ok.
func parseGuardLine(line string) (guardMsg, bool) {
	if line == "" {
		return guardMsg{}, false
	}
	m := guardMsg{op: line[0]}
	f := strings.Split(line[1:], " ")
	id, ok := canonicalUint(f[0], math.MaxUint64)
	if !ok || id == 0 {
		return guardMsg{}, false
	}
	m.id = id
	switch {
	case len(f) == 1 && (m.op == opChild || m.op == opWithdraw):
		return m, true
	case len(f) == 4 && (m.op == opChild || m.op == opTree):
		sig, ok1 := canonicalUint(f[1], 64)
		ms, ok2 := canonicalUint(f[2], math.MaxInt64/uint64(time.Millisecond))
		if !ok1 || !ok2 || sig == 0 || !isMarker(f[3]) {
			return guardMsg{}, false
		}
		m.tree = Tree{syscall.Signal(sig), time.Duration(ms) * time.Millisecond, f[3]}
		return m, true
	}
	return guardMsg{}, false
}

// canonicalUint reads a decimal number no greater than limit, written
// without sign or leading zeros.
func canonicalUint(s string, limit uint64) (uint64, bool) {
	n, err := strconv.ParseUint(s, 10, 64)
	return n, err == nil && n <= limit && s == strconv.FormatUint(n, 10)
}

// isMarker reports whether s can be a tree marker: 1 to 64 letters,
// digits, dots, dashes and underscores.
func isMarker(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for _, c := range []byte(s) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
