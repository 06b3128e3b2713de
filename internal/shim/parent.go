package shim

import (
	"io"
	"os"
	"syscall"

	"github.com/childproc/childproc/internal/handoff"
	"github.com/childproc/childproc/internal/reexec"
)

// A Shim is the parent's side of a shim being started: the handoff's
// socket and the orders to send on it.
type Shim struct {
	sock   *os.File
	orders Orders
}

// Start prepares attr so that the child, started as this binary, is the
// shim that sets limits and then executes path: it takes the
// credentials attr asked for into the orders (the shim itself starts
// with the parent's) and offers the handoff. It returns the shim and the
// child's end of the handoff, which the caller closes once the child has
// started.
func Start(limits []Limit, path string, attr *os.ProcAttr) (sh *Shim, child *os.File, err error) {
	o := Orders{Limits: limits, Path: path}
	if attr.Sys != nil {
		o.Cred = credOf(attr.Sys)
	}
	parent, child, err := reexec.Offer(reexec.Shim, attr)
	if err != nil {
		return nil, nil, err
	}
	return &Shim{sock: parent, orders: o}, child, nil
}

// Started completes the start of the shim, given what starting its
// process returned: it returns the error of the whole start, the
// target's failed exec included (the shim is then reaped). It closes the
// socket.
func (sh *Shim) Started(proc *os.Process, err error) error {
	if err != nil {
		sh.sock.Close()
		return err
	}
	if errno := sh.result(); errno != 0 {
		proc.Wait()
		return errno
	}
	return nil
}

// result sends the shim its orders and waits until it has executed the
// target (its end of the socket closes) or failed (it carries the
// errno). It closes the socket.
func (sh *Shim) result() syscall.Errno {
	defer sh.sock.Close()
	handoff.SendOrders(sh.sock, sh.orders.encode()) // a shim gone before it read them is seen below
	data, _ := io.ReadAll(io.LimitReader(sh.sock, 16))
	return parseStatus(data)
}
