package ipc_test

import (
	"context"
	"errors"
	"io"
	"log"

	"github.com/childproc/childproc/ipc"
)

// A child started by a Node parent (child_process.fork, or spawn with an
// 'ipc' stdio entry) or by a childproc parent answers its parent's
// messages until the parent disconnects. Node's side of this child, with
// fork's execPath naming the Go program (fork runs execPath, then the
// module path as its first argument):
//
//	const { fork } = require('node:child_process')
//	const child = fork('serve', [], { execPath: './worker' }) // runs ./worker serve
//	child.on('message', (m) => console.log(m)) // { sum: 3 }
//	child.send({ add: [1, 2] })
//	child.disconnect()
//
// The example only compiles: Parent needs the channel a parent hands its
// child (NODE_CHANNEL_FD), which go test does not; ExampleNewChannel runs
// both ends of a channel in one process.
func ExampleParent() {
	ch, err := ipc.Parent()
	if err != nil {
		log.Fatal(err) // not started with an IPC channel
	}
	defer ch.Close()
	for {
		m, err := ch.Recv(context.Background())
		if errors.Is(err, io.EOF) {
			return // the parent called disconnect(), or exited
		}
		if err != nil {
			log.Fatal(err) // bytes that were not a message: the channel is closed
		}
		var req struct{ Add []float64 }
		if err := m.Decode(&req); err != nil {
			continue // not a request of ours
		}
		var sum float64
		for _, x := range req.Add {
			sum += x
		}
		if err := ch.Send(map[string]float64{"sum": sum}); err != nil {
			return // the parent went away
		}
	}
}
