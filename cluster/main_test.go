package cluster_test

import (
	"os"
	"testing"

	"github.com/childproc/childproc"
)

// TestMain lets the test binary be forked into the local pools' workers,
// and run again as the test's server, worker and submitter processes
// (see roleEnv).
func TestMain(m *testing.M) {
	childproc.RunEntry()
	runRole()
	os.Exit(m.Run())
}
