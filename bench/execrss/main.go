// Command execrss measures the parent's peak memory when Exec buffers a
// large output with MaxBuffer math.MaxInt: it prints the peak resident set
// (VmHWM) against the bytes kept.
//
//	go run ./bench/execrss            # 1 GiB
//	go run ./bench/execrss -size 256  # MiB
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/childproc/childproc"
)

func main() {
	mib := flag.Int("size", 1024, "MiB of output")
	flag.Parse()
	size := *mib << 20
	base := peakKiB()
	c, err := childproc.Exec(context.Background(), "head -c "+strconv.Itoa(size)+" /dev/zero", &childproc.Options{MaxBuffer: math.MaxInt})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	out, _, err := c.Output()
	if err != nil || len(out) != size {
		fmt.Fprintf(os.Stderr, "%d bytes, %v\n", len(out), err)
		os.Exit(1)
	}
	peak := peakKiB()
	fmt.Printf("kept %d MiB; peak RSS %d MiB (%d MiB before the child); peak/kept %.2f\n",
		size>>20, peak>>10, base>>10, float64(peak<<10)/float64(size))
}

// peakKiB reads VmHWM, this process's peak resident set, from /proc.
func peakKiB() int {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return n
		}
	}
	return 0
}
