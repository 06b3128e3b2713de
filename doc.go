// Package childproc brings Node.js's child_process to Go: Spawn, Exec,
// ExecFile, Fork and their sync forms, with Node's options, stdio forms,
// events and error fields, in Go's idiom.
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
// children never see it, and runs main as usual. There are two
// exceptions, which do not run main either: a CHILDPROC_SHIM that names a
// socket without the token in a process that is not in secure execution
// was started with another program's arguments, so it exits with status
// 127 and a message rather than give them to main; and a
// CHILDPROC_GUARDIAN without its proof exits with status 2. In a setuid, setgid or file-capability process, Limits
// and ForkEntry are errors (CodeSecureExec): the child they start would
// not act.
//
// Unlike Node, childproc reaps every child whether or not anyone waits
// for it, kills children with their parent by default on Linux, and
// carries the cause of every failure in a typed *Error.
//
// # Children die with their parent
//
// On Linux a child that is neither Options.Detached nor
// Options.SurviveParent dies with its parent, even a parent killed by
// SIGKILL. The first such child starts the guardian: a re-execution of
// the running binary in a process group of its own, which acts only on
// the proof childproc hands it (never on an environment variable alone,
// and never in a setuid, setgid or file-capability process). Right
// after each such child starts, the parent passes the guardian a pidfd
// of it over a Unix socket. When the socket reports EOF the parent is
// gone, however it went, and within about 20 ms the guardian SIGKILLs
// every child still running through its pidfd and stops every
// Options.KillTree tree still registered (KillSignal, then SIGKILL
// after ForceKillAfter). Signals go through pidfds, and a process group is signalled only while its
// leader is alive, so the guardian never reaches a process that reused
// a pid or a process group id. Children are forked from the calling
// thread, as os/exec does: no parent-death signal ties them to it.
// Options.SurviveParent says exactly what is covered.
package childproc
