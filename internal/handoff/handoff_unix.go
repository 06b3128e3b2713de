//go:build unix

package handoff

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"os"
	"strconv"
	"strings"

	"github.com/childproc/childproc/internal/envlist"
	"github.com/childproc/childproc/internal/fdio"
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
//
// What a process does with a variable that proves nothing: it removes
// the variable from its environment (so that its children never see it)
// and runs as if it were not there, main included. That holds for a
// value that is malformed or names no socket (a variable left in an
// environment), and always in a secure-execution process, whatever the
// value. A value in canonical form that names a socket without the token
// is reported as ErrForged, for the mode to decide: such a
// process was meant for the mode, by a parent gone wrong or by a forger
// who could as well run the program himself.

// tokenLen is the length of a handoff token: 16 random bytes in hex.
const tokenLen = 32

// ErrForged is Prove's answer to a variable in canonical
// form whose socket does not carry the token.
var ErrForged = errors.New("the socket it names does not carry its token: this process was not started by childproc for it")

// Offer prepares attr so that the child can claim the mode named
// by key: it appends the child's end of a new socket pair to attr.Files
// and the variable to attr.Env (replacing any value key had there), and
// returns the parent's end, with the token already written, and the
// child's end, which the caller closes once the child has started. The
// socket stays open for the mode's own traffic in both directions.
func Offer(key string, attr *os.ProcAttr) (parent, child *os.File, err error) {
	var raw [tokenLen / 2]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, nil, err
	}
	token := hex.EncodeToString(raw[:])
	parent, child, err = fdio.SocketPair()
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
	attr.Env = append(envlist.Without(attr.Env, key), key+"="+strconv.Itoa(fd)+":"+token)
	return parent, child, nil
}

// Claim reports whether this process was started by childproc for
// the mode named by key, and returns the socket the parent handed it,
// close-on-exec. It removes key from the environment either way, so that
// children never inherit it. The descriptor is left as it is when the
// proof fails.
func Claim(key string) (*os.File, bool) {
	f, err := Prove(key)
	return f, err == nil && f != nil
}

// Prove is Claim that tells apart the two ways of failing:
// it returns no socket and no error when the process was not started for
// the mode (no variable, a variable that names no socket, or any variable
// in a secure-execution process), and ErrForged when the variable
// names a socket that does not carry its token.
func Prove(key string) (*os.File, error) {
	v, ok := os.LookupEnv(key)
	if !ok {
		return nil, nil
	}
	os.Unsetenv(key)
	if SecureExec() {
		return nil, nil
	}
	fd, token, ok := parseHandoff(v)
	if !ok || !isSocket(fd) {
		return nil, nil
	}
	got := make([]byte, tokenLen)
	n, _, err := unix.Recvfrom(fd, got, unix.MSG_PEEK|unix.MSG_DONTWAIT)
	if err != nil || n != tokenLen || subtle.ConstantTimeCompare(got, []byte(token)) != 1 {
		return nil, ErrForged
	}
	if n, err := unix.Read(fd, got); err != nil || n != tokenLen {
		return nil, ErrForged
	}
	unix.CloseOnExec(fd)
	return os.NewFile(uintptr(fd), key), nil
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

// SendOrders writes a mode's orders on the parent's end of a handoff and
// shuts that direction down, so that the child reads them to EOF. The
// parent writes them once the child runs, so that orders of any size
// cannot fill the socket before anyone reads it.
func SendOrders(parent *os.File, orders string) error {
	_, err := parent.WriteString(orders)
	if serr := shutdownWrite(parent); err == nil {
		err = serr
	}
	return err
}

// shutdownWrite shuts down the sending direction of the socket f.
func shutdownWrite(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = unix.Shutdown(int(fd), unix.SHUT_WR) }); err != nil {
		return err
	}
	return serr
}

// ReadHeld returns what the socket f holds at this moment, up to limit
// bytes, without waiting for more: what a child that has been reaped
// wrote before it ended.
func ReadHeld(f *os.File, limit int) []byte {
	buf := make([]byte, limit)
	n := 0
	for n < limit {
		m, err := fdio.ReadNow(f, buf[n:])
		if err != nil {
			break
		}
		n += m
	}
	return buf[:n]
}
