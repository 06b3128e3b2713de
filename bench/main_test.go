//go:build linux

package bench

import (
	"os"
	"testing"

	"github.com/childproc/childproc"
)

// TestMain lets the benchmark binary be forked into its entries and run
// as the raw echo peer or a cluster worker.
func TestMain(m *testing.M) {
	childproc.RunEntry()
	if os.Getenv(rawEchoEnv) == "1" {
		os.Exit(rawEcho())
	}
	if os.Getenv(clusterWorkerEnv) != "" {
		os.Exit(clusterWorker())
	}
	os.Exit(m.Run())
}
