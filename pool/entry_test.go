package pool_test

import (
	"os"
	"testing"

	"github.com/childproc/childproc"
)

// beforeTests, when set (by a test file's init), runs before the tests:
// it may take the process over for a mode of its own.
var beforeTests func()

// TestMain lets the test binary be forked into its workers.
func TestMain(m *testing.M) {
	childproc.RunEntry()
	if beforeTests != nil {
		beforeTests()
	}
	os.Exit(m.Run())
}
