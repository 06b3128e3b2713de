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

	"github.com/childproc/childproc/internal/fdio"
	"golang.org/x/sys/unix"
)

// A process that childproc starts for a mode of its own (the Limits shim,
// the guardian, a Go entry point) acts in that mode only on proof that
// childproc started it for that purpose. An environment variable alone
// is no proof: it may be left in an environment by mistake, or set by
// whoever runs a program. The proof is a handoff: a value (carried by
// internal/reexec's variable) names a descriptor and a token
// ("<fd>:<token>"), the descriptor is one end of a Unix socket pair, and
// the parent wrote the token into the other end before the child
// started. A process that runs with privileges its
// invoker lacks (AT_SECURE: setuid, setgid, file capabilities) never
// acts on a handoff at all.
//
// A value that is malformed or names no socket (a variable left in an
// environment) proves nothing, and so does any value in a
// secure-execution process. A value in canonical form that names a
// socket without the token is reported as ErrForged, for the mode to
// decide: such a process was meant for the mode, by a parent gone wrong
// or by a forger who could as well run the program himself.

// tokenLen is the length of a handoff token: 16 random bytes in hex.
const tokenLen = 32

// ErrForged is Prove's answer to a variable in canonical
// form whose socket does not carry the token.
var ErrForged = errors.New("the socket it names does not carry its token: this process was not started by childproc for it")

// Offer prepares attr so that the child can prove its mode: it appends
// the child's end of a new socket pair to attr.Files, and returns the
// parent's end, with the token already written, the child's end, which
// the caller closes once the child has started, and the value that names
// them to the child ("<fd>:<token>"). The socket stays open for the
// mode's own traffic in both directions.
func Offer(attr *os.ProcAttr) (parent, child *os.File, value string, err error) {
	var raw [tokenLen / 2]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, nil, "", err
	}
	token := hex.EncodeToString(raw[:])
	parent, child, err = fdio.SocketPair()
	if err != nil {
		return nil, nil, "", err
	}
	if _, err := parent.WriteString(token); err != nil {
		parent.Close()
		child.Close()
		return nil, nil, "", err
	}
	fd := len(attr.Files)
	attr.Files = append(attr.Files[:fd:fd], child)
	return parent, child, strconv.Itoa(fd) + ":" + token, nil
}

// Prove checks the handoff that v names and returns the socket the
// parent handed this process, close-on-exec. It returns no socket and no
// error when v proves nothing (it names no socket, or this process runs
// in secure execution), and ErrForged when v names a socket that does
// not carry its token; the descriptor is then left as it is.
func Prove(v string) (*os.File, error) {
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
	return os.NewFile(uintptr(fd), "handoff"), nil
}

// parseHandoff reads "<fd>:<token>" in canonical form: a decimal fd of 3
// or more and a token of tokenLen lower-case hex digits.
func parseHandoff(v string) (fd int, token string, ok bool) {
	f, token, found := strings.Cut(v, ":")
	n, err := strconv.ParseInt(f, 10, 32) // a descriptor is a C int: 2^32+3 is not 3
	fd = int(n)
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
