//go:build linux

package guardian

import (
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/childproc/childproc/internal/proctree"
)

// A look for trees that are gone made while this process has no file
// descriptor left (EMFILE: /proc and every environ fail to open) sees no
// marker, and must not take that for trees that are gone: the live
// process that carries the marker would lose its guardian.
func TestPruneUnderFdExhaustionKeepsLiveTree(t *testing.T) {
	marker := "prune-emfile." + strconv.Itoa(os.Getpid())
	cmd := exec.Command("sleep", "30")
	cmd.Env = []string{proctree.EnvKey + "=" + marker}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	pid := cmd.Process.Pid
	for deadline := time.Now().Add(5 * time.Second); proctree.MarkerOf(pid) != marker; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the marked process did not start")
		}
	}

	reg.mu.Lock()
	defer reg.mu.Unlock()
	if reg.proc != nil {
		t.Skip("a guardian runs")
	}
	if reg.links == nil {
		reg.links = map[uint64]*Link{}
	}
	reg.lastID++
	id := reg.lastID
	reg.links[id] = &Link{id: id, pidfd: -1, tree: Tree{Marker: marker}}
	reg.lingering++
	defer func() {
		if _, ok := reg.links[id]; ok {
			delete(reg.links, id)
			reg.lingering--
		}
	}()

	// Use up every descriptor under a low soft limit, then look.
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &old); err != nil {
		t.Fatal(err)
	}
	lim := old
	lim.Cur = 64
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	var fds []int
	for {
		fd, err := syscall.Dup(0)
		if err != nil {
			break
		}
		fds = append(fds, fd)
	}
	pruneTreesLocked()
	for _, fd := range fds {
		syscall.Close(fd)
	}
	syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old)

	if _, ok := reg.links[id]; !ok {
		t.Errorf("out of descriptors, the look withdrew the tree of live process %d, which carries its marker", pid)
	}
}
