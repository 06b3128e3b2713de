// Package forgetful forks an entry from a program that does not call
// childproc.RunEntry first: the mistake childproc must report rather
// than fork itself again and again. testdata/norunentry (a program) and
// testdata/notestmain (a test binary without TestMain) make it.
package forgetful

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/childproc/childproc"
	"github.com/childproc/childproc/ipc"
)

var worker = childproc.RegisterEntry("worker", func(ctx context.Context, ch *ipc.Channel, args []string) error {
	fmt.Println("worker ran")
	return nil
})

// Fork forks the worker entry, waits for it and prints what happened,
// prefixed by this process's generation, counted in the variable
// depthVar. It reports whether it failed. The third generation stops
// without forking, so that a childproc that misses the mistake makes a
// bounded number of processes.
func Fork(depthVar string) (failed bool) {
	depth, _ := strconv.Atoi(os.Getenv(depthVar))
	if depth >= 3 {
		fmt.Println("runaway: generation", depth)
		return true
	}
	os.Setenv(depthVar, strconv.Itoa(depth+1))
	c, err := childproc.ForkEntry(context.Background(), worker, nil, nil)
	if err != nil {
		fmt.Printf("generation %d: ForkEntry: %s: %v\n", depth, code(err), err)
		return true
	}
	err = c.Wait()
	fmt.Printf("generation %d: Wait: %s: %v\n", depth, code(err), err)
	return false
}

// code returns the Code of a *childproc.Error.
func code(err error) string {
	var e *childproc.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return "not a *childproc.Error"
}
