//go:build linux

package pool_test

import (
	"context"
	"errors"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/childproc/childproc/ipc"
	"github.com/childproc/childproc/pool"
)

// Serve refuses a channel that does not speak JSON, at once, rather than
// wait for tasks it could never read.
func TestServeRefusesOtherSerializations(t *testing.T) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	syscall.Close(fds[1])
	f := os.NewFile(uintptr(fds[0]), "channel")
	conn, err := net.FileConn(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	ch, err := ipc.NewChannel(conn.(*net.UnixConn), &ipc.Options{Serialization: "advanced"})
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	err = pool.Serve(context.Background(), ch, func(context.Context, int) (int, error) { return 0, nil })
	if !errors.Is(err, ipc.ErrUnsupported) {
		t.Fatalf("Serve on an advanced channel: %v", err)
	}
}
