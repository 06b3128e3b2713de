// Package childproc brings Node.js's child_process to Go: Spawn, Exec,
// ExecFile and Fork, and the sync forms SpawnSync, ExecSync and
// ExecFileSync, with Node's options, stdio forms, events and error
// fields, in Go's idiom. A child is reaped whether or not anyone waits
// for it, and every failure is a typed [*Error].
//
// # Entry points
//
// [Spawn] starts a program and returns once it runs (Node's 'spawn'
// event), with pipes for its stdin, stdout and stderr. [Exec] runs a
// command line through the shell and [ExecFile] a program without one;
// both buffer stdout and stderr for [Child.Output] (Node's callback).
// [Fork] starts a program or a Node module with an IPC channel
// ([Child.Send], [Child.Recv]), and [ForkEntry] a Go function of the
// running binary itself. The sync forms run a child to completion.
// Node's events are channels and calls: 'exit' is [Child.Exited], 'close'
// is [Child.Wait] (or [Child.Done]), 'disconnect' is
// [Child.Disconnected], 'message' is [Child.Recv], and an AbortSignal is
// the ctx every asynchronous entry point takes.
//
// # Defaults that differ from os/exec
//
//   - stdin, stdout and stderr are three pipes, as in Node (os/exec gives
//     the null device); an unread pipe is drained into memory, up to
//     [Options.MaxBuffer], once the child has exited.
//   - On Linux a child dies with its parent, even a parent killed by
//     SIGKILL, unless [Options.SurviveParent] or [Options.Detached] is set
//     (see below).
//   - Exec and ExecSync run their command through the shell
//     ([DefaultShell]), as Node's exec does.
//
// # Rules to know first
//
// The shell form (Exec, ExecSync, [Options.Shell]) joins the program and
// its arguments with spaces and does not quote them, as Node does:
// quote what comes from outside with [QuoteShell].
//
// A program name without a slash is looked up as execvp in the child
// would: in the PATH of the child's environment ([Options.Env], or the
// parent's), /usr/bin:/bin when it has none; an empty entry means the
// current directory, and relative entries, like a relative program path,
// are relative to [Options.Cwd]. A program that exists but cannot be
// executed is EACCES. On Windows the parent's PATH is searched, as
// os/exec does.
//
// # The running binary, started again
//
// A program that links childproc is itself started again by childproc
// for three modes of its own: the Limits shim (which sets a child's
// limits and credentials and then executes it), the guardian (below),
// and a Go entry point ([ForkEntry]). main, and TestMain in tests, must
// call [RunEntry] first. Such a process acts in a mode only when
// childproc started it for that mode, and never in a setuid, setgid or
// file-capability process: the proof is a socket the parent hands the
// child, carrying a random token the parent wrote before the child
// started, checked before main runs. One environment variable,
// CHILDPROC_REEXEC, names the mode and the socket ("<mode>:<fd>:<token>"),
// and alone it is never obeyed: a process removes it from its
// environment whatever it holds, so that its children never see it, and
// without the proof runs main as usual, with two exceptions that do not
// run main either. A CHILDPROC_REEXEC that names the shim and a socket
// without the token, in a process that is not in secure execution, came
// with another program's arguments, so the process exits with status 127
// and a message rather than give them to main; one that names the
// guardian without its proof exits with status 2. In a setuid, setgid
// or file-capability process, Limits and ForkEntry are errors
// ([CodeSecureExec]): the child they start would not act.
//
// # Children die with their parent
//
// On Linux a child that is neither [Options.Detached] nor
// [Options.SurviveParent] dies with its parent, even a parent killed by
// SIGKILL. The first such child starts the guardian: a re-execution of
// the running binary in a process group of its own, which acts only on
// the proof above. Right after each such child starts, the parent passes
// the guardian a pidfd of it over a Unix socket. When the socket reports
// EOF the parent is gone, however it went, and within about 20 ms the
// guardian SIGKILLs every child still running through its pidfd and
// stops every [Options.KillTree] tree still registered (KillSignal, then
// SIGKILL after ForceKillAfter). Signals go through pidfds, and a
// process group is signalled only while its leader is alive, so the
// guardian never reaches a process that reused a pid or a process group
// id. Children are forked from the calling goroutine's thread, as
// os/exec does, and no parent-death signal ties them to that thread.
// [Options.SurviveParent] says exactly what is covered.
package childproc
