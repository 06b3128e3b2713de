// Package handoff proves that childproc started a process for one of its
// own modes (the Limits shim, the guardian, a Go entry point): the
// parent hands the child one end of a socket pair that carries a random
// token, and names it in a value that internal/reexec's environment
// variable carries. A value alone is never obeyed, and nothing is obeyed
// in a secure-execution (setuid, setgid, file-capability) process.
package handoff
