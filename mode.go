package childproc

// A program that links childproc is started again by childproc for three
// modes of its own (see the package doc), each proved by a handoff (see
// handoff.Offer) named by its environment variable:
//
//   - guardianEnv: the guardian, which stops this process's children
//     once it is gone (Linux);
//   - shimEnv: the Limits shim, which sets a child's limits and
//     credentials and executes it (Unix);
//   - entryEnv: a Go entry point, forked by ForkEntry and run by
//     RunEntry.
//
// modes is the one place where a process looks for them, in this order;
// the first two never return once they act.
var modes = []func(){runGuardianIfStarted, runShimIfStarted, claimEntry}

// init acts on the mode childproc started this process for, if any,
// before main and before the init of any package that imports childproc.
// A forked entry is claimed now, so that its handoff is gone from the
// environment before any other code reads it, and run by RunEntry.
func init() {
	for _, claim := range modes {
		claim()
	}
}
