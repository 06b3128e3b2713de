package childproc_test

import (
	"os"
	"testing"

	"github.com/childproc/childproc"
)

// TestMain lets the test binary be forked into its registered entries.
func TestMain(m *testing.M) {
	childproc.RunEntry()
	// Race-enabled children (this binary, forked) would otherwise sleep
	// a second at exit.
	if _, ok := os.LookupEnv("GORACE"); !ok {
		os.Setenv("GORACE", "atexit_sleep_ms=0")
	}
	os.Exit(m.Run())
}
