//go:build linux

package childproc

import (
	"os"
	"os/exec"
	"testing"
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
