//go:build linux

package proctree

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// With no root pid, no group and a marker nobody has, the tree is empty:
// never init, never ourselves, never an unrelated process.
func TestTreeMembersFindsOnlyTheTree(t *testing.T) {
	other := exec.Command("sleep", "30")
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { other.Process.Kill(); other.Wait() }()
	for _, marker := range []string{"", "no-such-marker.", "0.", "1."} {
		if got := treeMembers(0, 0, marker); len(got) != 0 {
			t.Errorf("treeMembers(0, 0, %q) = %v, want none", marker, got)
		}
		if got := treeMembers(1, 1, marker); len(got) != 0 {
			t.Errorf("treeMembers(1, 1, %q) = %v, want none", marker, got)
		}
	}
	// Our own children are our tree, and we are not part of it.
	got := treeMembers(os.Getpid(), 0, "")
	found := false
	for _, p := range got {
		if p == os.Getpid() || p == 1 {
			t.Fatalf("tree of ourselves holds %d", p)
		}
		found = found || p == other.Process.Pid
	}
	if !found {
		t.Errorf("our child %d is not in our tree %v", other.Process.Pid, got)
	}
}

// After the reap, a process in the child's group belongs to the tree only
// if it started in a clock tick before the reap's: one that started
// later may lead a new group that reused the number.
func TestTreeGroupMembersAfterReap(t *testing.T) {
	cmd := exec.Command("sleep", "30")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	pid := cmd.Process.Pid
	info, ok := ReadProc(pid)
	if !ok || info.Pgid != pid {
		t.Fatalf("ReadProc(%d) = %+v, %v", pid, info, ok)
	}
	found := func(tr Tree) bool {
		ms := tr.Find()
		hit := false
		for _, m := range ms {
			hit = hit || m.Pid == pid
			unix.Close(m.Fd)
		}
		return hit
	}
	if found(Tree{Pgid: pid, ReapTick: info.Start}) {
		t.Errorf("a group member that started in the tick of the reap was taken for the tree's")
	}
	if !found(Tree{Pgid: pid, ReapTick: info.Start + 1}) {
		t.Errorf("a group member that started before the reap was not found")
	}
	if now := ClockTick(); now < info.Start {
		t.Errorf("ClockTick() = %d, before the start tick %d of a process that has started", now, info.Start)
	}
}

// treeMembers returns the pids of the tree rooted at pid (pid excluded):
// its descendants by parent link, the members of group pgid, and the
// processes whose environment holds the marker (and their descendants).
// A marker ending in "." matches every marker that starts with it.
func treeMembers(pid, pgid int, marker string) []int {
	members := Tree{Leader: pid, Pgid: pgid, Tag: TagOf(marker)}.Find()
	pids := make([]int, len(members))
	for i, m := range members {
		pids[i] = m.Pid
		unix.Close(m.Fd)
	}
	return pids
}

// A process that carries the marker is found while it executes one
// program after another: during an exec its environment reads empty, or
// cut short, until the kernel has set up the new one.
func TestMarkedProcessFoundDuringExec(t *testing.T) {
	marker := "exec-test." + strconv.Itoa(os.Getpid())
	// Each exec copies hundreds of arguments, which widens the moment
	// the environment is missing; the last exec is of sleep.
	script := `n=$((n+1)); export n; [ "$n" -lt 300 ] && exec sh -c "$S" "$@"; exec sleep 30`
	args := []string{"-c", script, "sh"}
	for i := range 2000 {
		args = append(args, strconv.Itoa(i))
	}
	cmd := exec.Command("sh", args...)
	cmd.Env = append(os.Environ(), "PADDING="+strings.Repeat("x", 4096), "S="+script, EnvKey+"="+marker)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	pid := cmd.Process.Pid
	// The child is never reaped meanwhile: its pid stays its own.
	missed, looks := 0, 0
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); looks++ {
		members := Tree{Tag: TagOf(marker)}.Find()
		found := false
		for _, m := range members {
			found = found || m.Pid == pid
			m.Release()
		}
		if !found {
			missed++
		}
		if data, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm"); string(data) == "sleep\n" {
			break
		}
	}
	if missed > 0 {
		t.Errorf("the marked process was missed by %d of %d looks while it executed programs", missed, looks)
	}
}
