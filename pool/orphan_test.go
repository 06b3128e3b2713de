//go:build linux

package pool_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/childproc/childproc/pool"
)

const orphanEnv = "POOL_TEST_ORPHAN_PARENT"

func init() {
	beforeTests = func() {
		if os.Getenv(orphanEnv) == "1" {
			orphanParent()
		}
	}
}

// orphanParent is the parent of TestWorkersDieWithParent: it starts a
// pool of two workers, prints their pids and waits to be killed.
func orphanParent() {
	p, err := pool.New(tester, &pool.Options{Size: 2})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	var wg sync.WaitGroup
	pids := make([]string, 2)
	for i := range pids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pids[i], _ = p.Do(context.Background(), job{Sleep: 300 * time.Millisecond, Pid: true})
		}()
	}
	wg.Wait()
	fmt.Println(strings.Join(pids, " "))
	select {}
}

// Workers die with their parent, even when it is SIGKILLed.
func TestWorkersDieWithParent(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), orphanEnv+"=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		t.Fatalf("parent said %q, %v", line, err)
	}
	var pids []int
	for _, f := range strings.Fields(line) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			t.Fatalf("parent said %q", line)
		}
		pids = append(pids, pid)
	}
	if len(pids) != 2 || pids[0] == pids[1] {
		t.Fatalf("two tasks at once did not run on two workers: %v", pids)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	eventually(t, 5*time.Second, "workers gone after their parent", func() bool {
		return !alive(pids[0]) && !alive(pids[1])
	})
}
