//go:build unix

package ipc_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"syscall"

	"github.com/childproc/childproc/ipc"
)

// NewChannel makes a Channel of a connected Unix socket. Here the two
// ends of one socket pair each become a Channel, standing for a parent
// and its child: a message goes each way, and closing one end is EOF at
// the other, as a disconnect() is in Node.
func ExampleNewChannel() {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		log.Fatal(err)
	}
	var ends [2]*ipc.Channel
	for i, fd := range fds {
		f := os.NewFile(uintptr(fd), "socket")
		conn, err := net.FileConn(f) // a descriptor of its own
		f.Close()
		if err != nil {
			log.Fatal(err)
		}
		if ends[i], err = ipc.NewChannel(conn.(*net.UnixConn), nil); err != nil {
			log.Fatal(err)
		}
	}
	parent, child := ends[0], ends[1]
	defer child.Close()
	ctx := context.Background()

	parent.Send(map[string][]int{"add": {1, 2}})
	m, err := child.Recv(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("child got", m)
	var req struct{ Add []int }
	if err := m.Decode(&req); err != nil {
		log.Fatal(err)
	}
	child.Send(map[string]int{"sum": req.Add[0] + req.Add[1]})
	if m, err = parent.Recv(ctx); err != nil {
		log.Fatal(err)
	}
	fmt.Println("parent got", m)

	parent.Close()
	_, err = child.Recv(ctx)
	fmt.Println("then the child reads EOF:", errors.Is(err, io.EOF))
	// Output:
	// child got {"add":[1,2]}
	// parent got {"sum":3}
	// then the child reads EOF: true
}

// Send writes each message as one line of JSON, as Node's "json"
// serialization does; a json.RawMessage goes out as it is, once checked
// to be one JSON value. Here the far end of the socket is read raw.
func ExampleChannel_Send() {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		log.Fatal(err)
	}
	ch, err := ipc.NewFile(os.NewFile(uintptr(fds[0]), "ours"), nil)
	if err != nil {
		log.Fatal(err)
	}
	peer := os.NewFile(uintptr(fds[1]), "theirs")
	defer peer.Close()

	ch.Send(json.RawMessage(`{"ready":true}`))
	ch.Send("a string")
	ch.Send([]int{1, 2, 3})
	ch.Send(map[string]any{"n": nil})
	ch.Close()

	lines := bufio.NewScanner(peer)
	for lines.Scan() {
		fmt.Println(lines.Text())
	}
	// Output:
	// {"ready":true}
	// "a string"
	// [1,2,3]
	// {"n":null}
}
