// Command advchild is a Go child for the advanced-serialization tests
// under a Node parent: it decodes every message into an any and sends
// back {value, bytes}, the value and its own serialization of it (a
// Buffer); a message with a handle is answered with {handled, msg}. It
// exits 0 when the parent disconnects.
package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/childproc/childproc/ipc"
)

func main() {
	ch, err := ipc.Parent()
	if err != nil {
		fmt.Fprintln(os.Stderr, "advchild:", err)
		os.Exit(2)
	}
	for {
		m, err := ch.Recv(context.Background())
		if err == io.EOF {
			return
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "advchild:", err)
			os.Exit(1)
		}
		var v any
		if err := m.Decode(&v); err != nil {
			fmt.Fprintln(os.Stderr, "advchild: decode:", err)
			os.Exit(1)
		}
		if f := m.File(); f != nil {
			f.Close()
			ch.Send(map[string]any{"handled": m.HandleType(), "msg": v})
			continue
		}
		frame, err := ipc.Advanced.AppendFrame(nil, v)
		if err != nil {
			fmt.Fprintln(os.Stderr, "advchild: encode:", err)
			os.Exit(1)
		}
		if err := ch.Send(map[string]any{"value": v, "bytes": frame[4:]}); err != nil {
			fmt.Fprintln(os.Stderr, "advchild: send:", err)
			os.Exit(1)
		}
	}
}
