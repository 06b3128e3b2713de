// Package guardian makes children die with their parent on Linux, even
// a parent killed by SIGKILL, which runs no code of its own: the
// guardian is a re-execution of the running binary (mode
// reexec.Guardian) that outlives the parent, learns when it is gone, and
// then stops the children the parent registered with it.
//
// The rules:
//
//   - One guardian per parent, started by Ready or Guard with the first
//     child that needs it, in its own process group (terminal signals
//     pass it by), with nothing in its environment but its handoff. It
//     acts only on the proof of that handoff (see Claim), and none is
//     started in a secure-execution process.
//   - Guard registers a child that has just started and has not been
//     reaped: the guardian gets a pidfd of it over a Unix socket, and for
//     a KillTree child how to stop its tree (a Tree). When the socket
//     reports EOF the parent is gone, however it went; within about
//     20 ms the guardian SIGKILLs every child still running through its
//     pidfd, stops every tree (its Signal, then SIGKILL after its Delay),
//     and exits.
//   - A pidfd names one process and never another that reused its pid,
//     and a tree's process group is signalled only while its leader's
//     pidfd shows it not reaped: the guardian never reaches a stranger.
//     A tree's other members are found and checked by internal/proctree.
//   - Nothing accumulates: the guardian closes a child's pidfd when the
//     child exits; Link.Release, once the parent has reaped the child,
//     closes the parent's, and a tree stays registered, by its marker,
//     only while a live process carries the marker.
//   - A guardian that dies is replaced by the next Guard or Ready, or at
//     once when it is reaped (at most one start a second), and
//     everything still live is registered with the new one; SetLogger
//     hears of each replacement.
//   - A Guard that finds the socket full waits: a slow guardian is never
//     taken for dead.
//
// Elsewhere than on Linux there is no guardian: Supported is false,
// Ready and Guard do nothing, and children survive their parent.
package guardian
