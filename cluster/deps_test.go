package cluster_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestCoreDoesNotImportNATS checks the package boundary that keeps
// NATS out of every program that does not import cluster: the core
// package, ipc and pool depend on no nats-io package, while cluster
// does (which shows that the check can fail).
func TestCoreDoesNotImportNATS(t *testing.T) {
	for _, pkg := range []string{"github.com/childproc/childproc", "github.com/childproc/childproc/ipc", "github.com/childproc/childproc/pool"} {
		if deps := natsDeps(t, pkg); len(deps) > 0 {
			t.Errorf("%s depends on %s", pkg, strings.Join(deps, ", "))
		}
	}
	if deps := natsDeps(t, "github.com/childproc/childproc/cluster"); len(deps) == 0 {
		t.Errorf("cluster depends on no nats-io package: the check sees nothing")
	}
}

// natsDeps returns the nats-io packages among pkg's dependencies, test
// dependencies excluded.
func natsDeps(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", pkg).Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	var deps []string
	for _, p := range strings.Fields(string(out)) {
		if strings.HasPrefix(p, "github.com/nats-io/") {
			deps = append(deps, p)
		}
	}
	return deps
}
