// Package childproc runs child processes as Node.js's child_process
// does: Spawn, Exec, ExecFile, Fork and their sync forms, with Node's
// options, stdio forms and error fields, in Go's idiom.
//
// A program that links childproc is itself started again by childproc
// for three modes of childproc's own: the Limits shim (which sets a
// child's limits and credentials and then executes it), the KillTree
// guardian, and a Go entry point (ForkEntry). Such a process acts in a
// mode only when childproc started it for that mode, and never in a
// setuid, setgid or file-capability process. The proof is a socket the
// parent hands the child, carrying a random token the parent wrote
// before the child started, checked in childproc's init before main;
// an environment variable alone (CHILDPROC_SHIM, CHILDPROC_GUARDIAN,
// CHILDPROC_ENTRY) is never obeyed. A process that finds such a variable
// without the proof removes it from its environment, so that its
// children never see it, and runs main as usual. The one exception is a
// CHILDPROC_SHIM that names a socket without the token in a process that
// is not in secure execution: it was started with another program's
// arguments, so it exits with status 127 and a message rather than give
// them to main. In a setuid, setgid or file-capability process, Limits
// and ForkEntry are errors (CodeSecureExec): the child they start would
// not act.
//
// Unlike Node, childproc reaps every child whether or not anyone waits
// for it, kills children with their parent by default on Linux, and
// carries the cause of every failure in a typed *Error.
package childproc
