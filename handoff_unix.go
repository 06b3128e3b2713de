//go:build unix

package childproc

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// A process that childproc starts for a mode of its own (the Limits shim,
// the guardian, a Go entry point) acts in that mode only on proof that
// childproc started it for that purpose. An environment variable alone
// is no proof: it may be left in an environment by mistake, or set by
// whoever runs a program. The proof is a handoff: the variable names a
// descriptor and a token ("<fd>:<token>"), the descriptor is one end of a
// Unix socket pair, and the parent wrote the token into the other end
// before the child started. A process that runs with privileges its
// invoker lacks (AT_SECURE: setuid, setgid, file capabilities) never
// acts on a handoff at all.

// tokenLen is the length of a handoff token: 16 random bytes in hex.
const tokenLen = 32

// offerHandoff prepares attr so that the child can claim the mode named
// by key: it appends the child's end of a new socket pair to attr.Files
// and the variable to attr.Env, and returns the parent's end, with the
// token already written, and the child's end, which the caller closes
// once the child has started. The socket stays open for the mode's own
// traffic in both directions.
func offerHandoff(key string, attr *os.ProcAttr) (parent, child *os.File, err error) {
	var raw [tokenLen / 2]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, nil, err
	}
	token := hex.EncodeToString(raw[:])
	parent, child, err = socketPair()
	if err != nil {
		return nil, nil, err
	}
	if _, err := parent.WriteString(token); err != nil {
		parent.Close()
		child.Close()
		return nil, nil, err
	}
	fd := len(attr.Files)
	attr.Files = append(attr.Files[:fd:fd], child)
	attr.Env = append(attr.Env[:len(attr.Env):len(attr.Env)], key+"="+strconv.Itoa(fd)+":"+token)
	return parent, child, nil
}

// claimHandoff reports whether this process was started by childproc for
// the mode named by key, and returns the socket the parent handed it. It
// removes key from the environment either way, so that children never
// inherit it. The descriptor is left as it is when the proof fails.
func claimHandoff(key string) (*os.File, bool) {
	v, ok := os.LookupEnv(key)
	if !ok {
		return nil, false
	}
	os.Unsetenv(key)
	if secureExec() {
		return nil, false
	}
	fd, token, ok := parseHandoff(v)
	if !ok || !isSocket(fd) {
		return nil, false
	}
	got := make([]byte, tokenLen)
	n, _, err := unix.Recvfrom(fd, got, unix.MSG_PEEK|unix.MSG_DONTWAIT)
	if err != nil || n != tokenLen || subtle.ConstantTimeCompare(got, []byte(token)) != 1 {
		return nil, false
	}
	if n, err := unix.Read(fd, got); err != nil || n != tokenLen {
		return nil, false
	}
	unix.CloseOnExec(fd)
	return os.NewFile(uintptr(fd), key), true
}

// parseHandoff reads "<fd>:<token>" in canonical form: a decimal fd of 3
// or more and a token of tokenLen lower-case hex digits.
func parseHandoff(v string) (fd int, token string, ok bool) {
	f, token, found := strings.Cut(v, ":")
	fd, err := strconv.Atoi(f)
	if !found || err != nil || fd < 3 || f != strconv.Itoa(fd) || len(token) != tokenLen {
		return 0, "", false
	}
	for _, c := range token {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return 0, "", false
		}
	}
	return fd, token, true
}

// isSocket reports whether fd is an open socket.
func isSocket(fd int) bool {
	var st unix.Stat_t
	return unix.Fstat(fd, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFSOCK
}
