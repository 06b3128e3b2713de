// Command gostart runs a command once for each line of its standard
// input, J at a time, with nothing but os.StartProcess: each job's
// stdout and stderr are pipes read to their end, then the job is waited
// for. It is the floor that Go's process start sets for any Go program
// that runs jobs as xargs -P does, and bench/cli.sh measures
// childproc parallel against it in the same run.
//
//	seq 1000 | go run ./bench/gostart -j 2 true
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
)

func main() {
	jobs := flag.Int("j", 2, "jobs at a time")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: gostart [-j N] command [args]")
		os.Exit(2)
	}
	path, err := exec.LookPath(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, "gostart:", err)
		os.Exit(2)
	}
	lines := make(chan string)
	var wg sync.WaitGroup
	failed := 0
	var mu sync.Mutex
	for range *jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for line := range lines {
				if err := runJob(path, append(flag.Args(), line)); err != nil {
					mu.Lock()
					failed++
					mu.Unlock()
				}
			}
		}()
	}
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		lines <- in.Text()
	}
	close(lines)
	wg.Wait()
	os.Exit(min(failed, 101))
}

// runJob runs argv, reading its stdout and stderr to their end, as a
// runner of grouped jobs must.
func runJob(path string, argv []string) error {
	outR, outW, err := os.Pipe()
	if err != nil {
		return err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return err
	}
	p, err := os.StartProcess(path, argv, &os.ProcAttr{Files: []*os.File{nil, outW, errW}})
	outW.Close()
	errW.Close()
	if err != nil {
		outR.Close()
		errR.Close()
		return err
	}
	done := make(chan struct{})
	go func() {
		io.Copy(io.Discard, errR)
		close(done)
	}()
	io.Copy(io.Discard, outR)
	<-done
	outR.Close()
	errR.Close()
	st, err := p.Wait()
	if err != nil {
		return err
	}
	if !st.Success() {
		return fmt.Errorf("%s", st)
	}
	return nil
}
