// Command reusedpgid runs as a pid namespace's second process, for the
// test that the guardian spares a reused process group. It starts a
// KillTree child whose grandchild outlives it, waits until the whole tree
// is gone, then starts an unrelated process that leads a process group
// with the tree's old pgid (ns_last_pid makes the pid come round), says
// "ready" and dies by SIGKILL. Its processes carry CHILDPROC_TEST_MARK
// with the mark given as its argument (the stranger's with "-stranger").
package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"

	"github.com/childproc/childproc"
)

func main() {
	if err := run(os.Args[1]); err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println("ready")
	syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {}
}

func run(mark string) error {
	c, err := childproc.Spawn(context.Background(), "sh", []string{"-c", "sleep 0.3 & exit 0"}, &childproc.Options{
		Env:      append(os.Environ(), "CHILDPROC_TEST_MARK="+mark),
		KillTree: true,
		Stdio:    []any{childproc.Ignore, childproc.Ignore, childproc.Ignore},
	})
	if err != nil {
		return err
	}
	pgid := c.Pid()
	c.Wait()
	for syscall.Kill(-pgid, 0) == nil {
		time.Sleep(10 * time.Millisecond)
	}
	for try := 0; ; try++ {
		if err := os.WriteFile("/proc/sys/kernel/ns_last_pid", []byte(strconv.Itoa(pgid-1)), 0); err != nil {
			return err
		}
		stranger := exec.Command("sleep", "100")
		stranger.Env = append(os.Environ(), "CHILDPROC_TEST_MARK="+mark+"-stranger")
		stranger.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := stranger.Start(); err != nil {
			return err
		}
		if stranger.Process.Pid == pgid {
			return nil
		}
		stranger.Process.Kill()
		stranger.Wait()
		if try == 10 {
			return fmt.Errorf("pid %d never came round", pgid)
		}
	}
}
