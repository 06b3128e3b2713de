// Package childproc brings Node.js's child_process to Go: Spawn, Exec,
// ExecFile, Fork and their sync forms, with Node's options, stdio forms,
// events and error fields, in Go's idiom.
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
// Options.KillTree tree still registered (KillSignal, then SIGKILL after ForceKillAfter). Signals go
// through pidfds, and a process group is signalled only while its
// leader is alive, so the guardian never reaches a process that reused
// a pid or a process group id. Children are forked from the calling
// thread, as os/exec does: no parent-death signal ties them to it.
// Options.SurviveParent says exactly what is covered.
package childproc
