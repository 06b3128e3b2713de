package childproc

// init acts on the mode childproc started this process for, if any (see
// the package doc), before main and before the init of any package that
// imports childproc: first the Limits shim, which never returns, then a
// forked entry, claimed now so that its handoff is gone from the
// environment before any other code reads it, and run by RunEntry.
func init() {
	runShimIfStarted()
	claimEntry()
}
