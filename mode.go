package childproc

import (
	"github.com/childproc/childproc/internal/guardian"
	"github.com/childproc/childproc/internal/reexec"
	"github.com/childproc/childproc/internal/shim"
)

// A program that links childproc is started again by childproc for three
// modes of its own (see the package doc), each named, with the proof of
// its handoff, by reexec.Key:
//
//   - reexec.Guardian: the guardian, which stops this process's children
//     once it is gone (Linux);
//   - reexec.Shim: the Limits shim, which sets a child's limits and
//     credentials and executes it (Unix);
//   - reexec.Entry: a Go entry point, forked by ForkEntry and run by
//     RunEntry.
//
// The guardian and the shim never return once they act.
var modes = map[reexec.Mode]reexec.Claim{
	reexec.Guardian: guardian.Claim,
	reexec.Shim:     shim.Claim,
	reexec.Entry:    claimEntry,
}

// init acts on the mode childproc started this process for, if any,
// before main and before the init of any package that imports childproc.
// A forked entry is claimed now, so that its handoff is gone from the
// environment before any other code reads it, and run by RunEntry.
func init() { reexec.Dispatch(modes) }
