// Command norunentry forks an entry without calling childproc.RunEntry
// first in main (see package forgetful).
package main

import (
	"os"

	"github.com/childproc/childproc/testdata/forgetful"
)

func main() {
	if forgetful.Fork("NORUNENTRY_DEPTH") {
		os.Exit(1)
	}
}
