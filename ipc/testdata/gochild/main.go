// Command gochild is a Go child for the IPC tests: it echoes every
// message from its parent (a Node parent or a Go one) byte for byte,
// writes a greeting into any socket handle it is sent, and closes the
// channel when told "bye". A message {"rawcheck": ...} is answered with
// {"raw": the message's bytes as received}. It exits 0 when the parent
// disconnects (EOF), 1 on any other receive error. Run as "gochild crash"
// it sends 1, 2, 3 and dies with exit code 3.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/childproc/childproc/ipc"
)

func main() {
	ch, err := ipc.Parent()
	if err != nil {
		fmt.Fprintln(os.Stderr, "gochild:", err)
		os.Exit(2)
	}
	if len(os.Args) > 1 && os.Args[1] == "crash" {
		for i := 1; i <= 3; i++ {
			ch.Send(i)
		}
		ch.Close() // flushes what was sent; a crash loses nothing already written
		os.Exit(3)
	}
	for {
		m, err := ch.Recv(context.Background())
		if err == io.EOF {
			return
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "gochild:", err)
			os.Exit(1)
		}
		if f := m.File(); f != nil {
			switch m.HandleType() {
			case "net.Socket":
				conn, err := m.Conn()
				if err != nil {
					ch.Send(map[string]string{"error": err.Error()})
					continue
				}
				fmt.Fprintf(conn, "hello from go: %s", m.Bytes())
				conn.Close()
			case "net.Server":
				l, err := m.Listener()
				if err != nil {
					ch.Send(map[string]string{"error": err.Error()})
					continue
				}
				go func() {
					for {
						c, err := l.Accept()
						if err != nil {
							return
						}
						fmt.Fprintf(c, "served by go")
						c.Close()
					}
				}()
			default:
				f.Close()
			}
			ch.Send(map[string]string{"handled": m.HandleType()})
			continue
		}
		if bytes.HasPrefix(m.Bytes(), []byte(`{"rawcheck":`)) {
			ch.Send(map[string]string{"raw": m.String()}) // the bytes as received
			continue
		}
		if m.String() == `"bye"` {
			ch.Close()
			return
		}
		ch.Send(json.RawMessage(m.Bytes()))
	}
}
