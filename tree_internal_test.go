//go:build linux

package childproc

import (
	"os"
	"os/exec"
	"syscall"
	"testing"

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
	info, ok := readProc(pid)
	if !ok || info.pgid != pid {
		t.Fatalf("readProc(%d) = %+v, %v", pid, info, ok)
	}
	found := func(tr tree) bool {
		ms := tr.find()
		hit := false
		for _, m := range ms {
			hit = hit || m.pid == pid
			unix.Close(m.fd)
		}
		return hit
	}
	if found(tree{pgid: pid, reapTick: info.start}) {
		t.Errorf("a group member that started in the tick of the reap was taken for the tree's")
	}
	if !found(tree{pgid: pid, reapTick: info.start + 1}) {
		t.Errorf("a group member that started before the reap was not found")
	}
	if now := clockTick(); now < info.start {
		t.Errorf("clockTick() = %d, before the start tick %d of a process that has started", now, info.start)
	}
}
