package shim

import (
	"errors"
	"strconv"
	"strings"
	"syscall"
)

// A Limit is one resource limit to set: setrlimit(Resource) to Cur and
// Max, a hard limit never raised.
type Limit struct {
	Resource int
	Cur, Max uint64
}

// Cred is the user and group the target runs as.
type Cred struct {
	UID, GID uint32
}

// Orders is what the shim is told to do: set Limits, change to Cred
// (nil: keep the parent's), execute Path.
type Orders struct {
	Limits []Limit
	Cred   *Cred
	Path   string
}

// maxOrders bounds the orders a shim reads: a path and a few limits.
const maxOrders = 1 << 16

// encode writes the orders as
// "2\n<res>=<cur>:<max>,...\n<uid>:<gid>\n<path>", the credentials empty
// when they stay the parent's.
func (o Orders) encode() string {
	lim := make([]string, len(o.Limits))
	for i, l := range o.Limits {
		lim[i] = strconv.Itoa(l.Resource) + "=" + strconv.FormatUint(l.Cur, 10) + ":" + strconv.FormatUint(l.Max, 10)
	}
	cred := ""
	if o.Cred != nil {
		cred = strconv.FormatUint(uint64(o.Cred.UID), 10) + ":" + strconv.FormatUint(uint64(o.Cred.GID), 10)
	}
	return "2\n" + strings.Join(lim, ",") + "\n" + cred + "\n" + o.Path
}

// parseOrders reads what encode wrote; anything else is not ok.
func parseOrders(spec string) (Orders, bool) {
	fields := strings.SplitN(spec, "\n", 4)
	if len(fields) != 4 || fields[0] != "2" {
		return Orders{}, false
	}
	o := Orders{Path: fields[3]}
	if fields[1] != "" {
		for _, item := range strings.Split(fields[1], ",") {
			l, ok := parseLimit(item)
			if !ok {
				return Orders{}, false
			}
			o.Limits = append(o.Limits, l)
		}
	}
	if fields[2] != "" {
		cred, ok := parseCred(fields[2])
		if !ok {
			return Orders{}, false
		}
		o.Cred = &cred
	}
	return o, true
}

// parseLimit reads one "<res>=<cur>:<max>" item, in canonical form only.
func parseLimit(item string) (Limit, bool) {
	r, rest, ok1 := strings.Cut(item, "=")
	c, m, ok2 := strings.Cut(rest, ":")
	if !ok1 || !ok2 {
		return Limit{}, false
	}
	res, err1 := strconv.Atoi(r)
	cur, err2 := strconv.ParseUint(c, 10, 64)
	hard, err3 := strconv.ParseUint(m, 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || res < 0 || r != strconv.Itoa(res) ||
		c != strconv.FormatUint(cur, 10) || m != strconv.FormatUint(hard, 10) {
		return Limit{}, false
	}
	return Limit{res, cur, hard}, true
}

// parseCred reads "<uid>:<gid>", in canonical form only.
func parseCred(s string) (Cred, bool) {
	u, g, ok := strings.Cut(s, ":")
	uid, err1 := strconv.ParseUint(u, 10, 32)
	gid, err2 := strconv.ParseUint(g, 10, 32)
	if !ok || err1 != nil || err2 != nil || u != strconv.FormatUint(uid, 10) || g != strconv.FormatUint(gid, 10) {
		return Cred{}, false
	}
	return Cred{uint32(uid), uint32(gid)}, true
}

// parseStatus reads what the shim wrote on its socket: nothing when the
// target was executed, else the errno in decimal. Bytes that are neither
// are EINVAL.
func parseStatus(data []byte) syscall.Errno {
	if len(data) == 0 {
		return 0
	}
	n, err := strconv.Atoi(string(data))
	if err != nil || n <= 0 || n > 4095 {
		return syscall.EINVAL
	}
	return syscall.Errno(n)
}

// appendErrno appends err's errno in decimal (EINVAL when err has none)
// to b, without allocating when b has room.
func appendErrno(b []byte, err error) []byte {
	errno, ok := err.(syscall.Errno)
	if !ok && !errors.As(err, &errno) {
		errno = syscall.EINVAL
	}
	return strconv.AppendUint(b, uint64(errno), 10)
}
