// Package reexec is how childproc starts the running binary again for a
// mode of its own, and how the started process finds its mode: one
// environment variable, Key, names the mode and its handoff
// ("<mode>:<fd>:<token>", see internal/handoff), and after a comma the
// modes of the program that this one executes, if any (the shim's
// target may be a forked entry: "shim:4:<token>,entry:3:<token>").
//
// The rules:
//
//   - A process acts in a mode only on the proof of its handoff, and
//     never in a secure-execution (setuid, setgid, file-capability)
//     process, where no handoff proves anything.
//   - Dispatch removes Key from the environment whatever it holds, before
//     any mode runs, so that no child ever inherits it; only the shim
//     hands the rest of the value on, to the program it executes, which
//     proves its own handoff.
//   - A value that names no mode this binary knows is ignored: the
//     process runs as if Key were not set, main included.
//   - Each mode decides what a failed proof means for it (see Dispatch):
//     a guardian without its proof exits, a shim whose handoff is forged
//     exits, an entry without its proof runs main.
//   - Nothing but Key selects a mode: other variables, the names of
//     earlier protocols (CHILDPROC_SHIM, CHILDPROC_GUARDIAN,
//     CHILDPROC_ENTRY) included, are ordinary variables here.
//
// The modes are Guardian (children die with their parent, Linux), Shim
// (a child's Limits and credentials, Unix) and Entry (a Go entry point
// forked by ForkEntry).
package reexec
