package pool_test

import (
	"os"
	"testing"

	"github.com/childproc/childproc"
)

// TestMain lets the test binary be forked into its workers.
func TestMain(m *testing.M) {
	childproc.RunEntry()
	os.Exit(m.Run())
}
