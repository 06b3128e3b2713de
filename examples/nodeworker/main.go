// Command nodeworker forks a Node.js script from Go and talks to it over
// Node's own IPC channel (process.send / process.on('message')).
//
//	go run ./examples/nodeworker
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/childproc/childproc"
)

func main() {
	_, file, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(file), "worker.js")
	c, err := childproc.Fork(context.Background(), script, nil, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "nodeworker:", err)
		os.Exit(1)
	}
	for n := 1; n <= 5; n++ {
		if err := c.Send(map[string]int{"n": n}); err != nil {
			fmt.Fprintln(os.Stderr, "send:", err)
			os.Exit(1)
		}
		m, err := c.Recv(context.Background())
		if err != nil {
			fmt.Fprintln(os.Stderr, "recv:", err)
			os.Exit(1)
		}
		fmt.Println(m.String())
	}
	c.Disconnect() // Node's 'disconnect'; with no listener left, the script ends
	if err := c.Wait(); err != nil {
		fmt.Fprintln(os.Stderr, "node:", err)
		os.Exit(1)
	}
}
