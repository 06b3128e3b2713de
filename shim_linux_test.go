package childproc_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/childproc/childproc"
)

// A Go entry forked with Limits runs the entry: the shim hands the
// entry's handoff on to the binary it executes, which claims it, and
// neither sees CHILDPROC_REEXEC left in its environment. (The argument
// keeps a child that ran main instead from running the tests.)
func TestForkEntryWithLimits(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := childproc.ForkEntry(ctx, argsEntry, []string{"-test.run=^$"}, &childproc.Options{Limits: &childproc.Limits{OpenFiles: 64}})
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Args []string
		Env  string
	}
	m, err := c.Recv(ctx)
	if err != nil {
		c.Wait()
		t.Fatalf("the entry sent nothing (%v): it did not run", err)
	}
	m.Decode(&got)
	if strings.Join(got.Args, "|") != "-test.run=^$" || got.Env != "" {
		t.Fatalf("entry saw %+v; want its args and no CHILDPROC_REEXEC", got)
	}
	if err := c.Wait(); err != nil {
		t.Fatal(err)
	}
}
