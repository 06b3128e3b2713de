// Command recvmem receives one message on the channel at NODE_CHANNEL_FD
// (the default Options: 64 MiB MaxMessageSize), keeps it, and prints on
// stdout what it kept and its memory figures from /proc/self/status:
//
//	kept=<bytes> err=<Recv's error or nil> rss0=<kB before> hwm=<peak kB> rss1=<kB after>
//
// BenchmarkRecvPeakRSS runs it against a parent writing a line of a
// given size, to measure what receiving that line costs in memory.
package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"

	"github.com/childproc/childproc/ipc"
)

func main() {
	runtime.GC()
	rss0 := status("VmRSS")
	ch, err := ipc.Parent()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ch.Send("ready")
	m, err := ch.Recv(context.Background())
	kept := len(m.Bytes())
	fmt.Printf("kept=%d err=%q rss0=%d hwm=%d rss1=%d\n", kept, fmt.Sprint(err), rss0, status("VmHWM"), status("VmRSS"))
	runtime.KeepAlive(m)
	ch.Close()
}

// status returns a "kB" field of /proc/self/status.
func status(field string) int {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return -1
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), field+":"); ok {
			var n int
			fmt.Sscanf(strings.TrimSpace(v), "%d", &n)
			return n
		}
	}
	return -1
}
