// Package shim sets a child's resource limits before the child's first
// instruction (Unix): the child starts as a re-execution of the running
// binary (mode reexec.Shim), which takes on the child's credentials,
// sets the limits and executes the target in the same process.
//
// The rules:
//
//   - The shim starts with the parent's credentials, so that it can
//     execute this binary whatever its mode, and acts only on the proof
//     of its handoff (see Claim). A forged handoff (a socket without its
//     token) ends the process with status 127: it came with another
//     program's arguments, which main must not be given.
//   - The parent sends the orders (Orders: limits, credentials, path) on
//     the handoff's socket once the shim runs; the shim reads at most
//     64 KiB of them and refuses anything not in the canonical form the
//     parent writes.
//   - The credentials change first, the limits come after (a Processes
//     limit would otherwise count the shim's own threads at the exec),
//     and a hard limit is only ever lowered. Nothing is allocated between
//     the limits and the exec (Linux): a memory limit below what the Go
//     runtime holds cannot fail the shim itself.
//   - The same socket tells the parent how the exec went: it closes on
//     exec (success), or carries the errno in decimal (failure); the
//     shim keeps its pid through the exec, so the child's pid is the
//     target's.
//   - Only the package inits that Go runs before childproc's run in the
//     shim; the program's main never does.
//
// Windows has no setrlimit: Start fails there with EWINDOWS.
package shim
