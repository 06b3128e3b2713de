// Package notestmain is a test binary that forks an entry but has no
// TestMain calling childproc.RunEntry (see package forgetful).
package notestmain

import (
	"testing"

	"github.com/childproc/childproc/testdata/forgetful"
)

func TestForkWorker(t *testing.T) {
	if forgetful.Fork("NOTESTMAIN_DEPTH") {
		t.FailNow()
	}
}
