//go:build unix

package childproc_test

import (
	"context"
	"syscall"
	"testing"

	"github.com/childproc/childproc"
)

// Bad arguments to the methods of a running child.
func TestBadInputChildMethods(t *testing.T) {
	c, err := childproc.Spawn(context.Background(), "sleep", []string{"60"}, quietOpts())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { c.Kill(syscall.SIGKILL); waitFor(t, c) }()
	wantCode(t, c.Kill(syscall.Signal(99)), childproc.CodeUnknownSignal)
	wantCode(t, c.Kill(fakeSignal{}), childproc.CodeUnknownSignal)
	wantCode(t, c.KillTree(syscall.Signal(99)), childproc.CodeUnknownSignal)
	if c.Killed() {
		t.Fatal("Killed set by a rejected signal")
	}
	if c.Stdio(-1) != nil || c.Stdio(100) != nil {
		t.Fatal("Stdio out of range is not nil")
	}
}
