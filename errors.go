package childproc

import (
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"syscall"
)

// Error codes that childproc reports in Error.Code besides the system error
// names (ENOENT, EACCES, E2BIG, ...). They are Node's codes where Node has one.
const (
	CodeInvalidArgValue = "ERR_INVALID_ARG_VALUE" // a bad argument or option value
	CodeInvalidArgType  = "ERR_INVALID_ARG_TYPE"  // an argument of the wrong type (a nil context, say)
	CodeOutOfRange      = "ERR_OUT_OF_RANGE"      // a negative timeout, maxBuffer, uid or gid
	CodeUnknownSignal   = "ERR_UNKNOWN_SIGNAL"    // a kill signal the platform does not know
	CodeMaxBuffer       = "ERR_CHILD_PROCESS_STDIO_MAXBUFFER"
	CodeAbort           = "ABORT_ERR"                      // the context was cancelled and the child killed
	CodeTimedOut        = "ETIMEDOUT"                      // a sync form's Timeout expired
	CodeNoBufs          = "ENOBUFS"                        // a sync form's MaxBuffer was exceeded
	CodeIPCOnePipe      = "ERR_IPC_ONE_PIPE"               // more than one IPC entry in Stdio
	CodeIPCSyncFork     = "ERR_IPC_SYNC_FORK"              // an IPC entry in a sync form
	CodeIPCRequired     = "ERR_CHILD_PROCESS_IPC_REQUIRED" // Fork with a Stdio that has no IPC entry
	CodeWaitDelay       = "ERR_CHILD_PROCESS_WAIT_DELAY"   // stdio still open WaitDelay after exit
	CodeSecureExec      = "ERR_CHILDPROC_SECURE_EXEC"      // Limits or ForkEntry in a setuid, setgid or file-capability process, where childproc's modes never act
)

// ErrWaitDelay is the cause of an Error with code CodeWaitDelay: the child
// exited but its stdio was still held open (usually by a grandchild) when
// [Options.WaitDelay] ran out, so childproc closed it.
var ErrWaitDelay = errors.New("stdio still open after WaitDelay")

// ErrMaxBuffer is the cause of an Error with code CodeMaxBuffer, and
// errors.Is(err, ErrMaxBuffer) also holds for a sync form's CodeNoBufs:
// the child wrote more than [Options.MaxBuffer] to a buffered stream.
var ErrMaxBuffer = errors.New("maxBuffer length exceeded")

// ErrTimeout is what errors.Is finds in the Error of a child that
// [Options.Timeout] stopped (Error.TimedOut): Wait's, and a sync form's
// CodeTimedOut.
var ErrTimeout = errors.New("timed out")

// Error is the one error type of package childproc. It carries the fields
// of Node's child_process errors, and each field says when it is set; a
// field that does not apply is zero, except ExitCode, which is -1 unless
// the child exited.
//
// An Error comes from one of four kinds of failure: bad input (Code is
// CodeInvalidArgValue, CodeInvalidArgType, CodeOutOfRange,
// CodeUnknownSignal or an IPC code; nothing was started, and only Code
// and the message are set); a child that could not be started (Code is the
// system error name, with Errno, Syscall, Path and Spawnargs); a child
// that ran and failed, from Child.Wait or a sync form (Cmd, ExitCode,
// Signal, Killed, TimedOut, ForceKilled, Limit, and Stdout and Stderr
// where they were buffered; Code is "" for a plain non-zero exit or a
// signal, as in Node, or names how childproc ended it: CodeAbort,
// CodeMaxBuffer, CodeWaitDelay, and in the sync forms CodeTimedOut and
// CodeNoBufs); and a failed operation on a running child (Kill, the IPC
// channel).
//
// Use errors.As to reach it and errors.Is to test its cause: a missing
// program satisfies errors.Is(err, fs.ErrNotExist), an abort
// errors.Is(err, context.Cause(ctx)) (context.Canceled after a plain
// cancel, context.DeadlineExceeded after a deadline). The failure of a Go
// entry point (ForkEntry) that returned an error has an *EntryError as
// its Err.
type Error struct {
	// Code is Node's error code: a system error name ("ENOENT",
	// "EACCES", "E2BIG") when a system call failed ("UNKNOWN" when it
	// has none), or one of the Code constants of this package. It is ""
	// for a child that exited non-zero or was ended by a signal, Kill's
	// and Timeout's included, as in Node: see ExitCode, Signal and
	// TimedOut.
	Code string
	// Errno is the system error number when a system call failed: a
	// child that could not be started, a failed preparation (see
	// Syscall), ETIMEDOUT and ENOBUFS in the sync forms, Kill's ESRCH;
	// 0 otherwise. It is positive: Node reports it negated.
	Errno syscall.Errno
	// Syscall names the failed system call: "spawn ls" or "spawnSync
	// ls" for a child that could not be started or, in the sync forms,
	// timed out or overflowed MaxBuffer; "kill" for Kill; the call
	// that failed while childproc prepared a child ("pipe", "dup",
	// "setrlimit", ...). "" otherwise.
	Syscall string
	// Path is the file of a "spawn" or "spawnSync" Syscall (the program
	// that could not be started, or that timed out or overflowed in a
	// sync form), or the Cwd that is missing or not a directory, or the
	// file or descriptor a preparation failed on; "" otherwise.
	Path string
	// Spawnargs are the arguments of a child that could not be started
	// or, in the sync forms, timed out or overflowed MaxBuffer, without
	// argv[0]; nil otherwise.
	Spawnargs []string
	// Cmd is the command line of the child: the file and its arguments
	// joined by spaces, or Exec's and ExecSync's command. It is set on
	// the errors of a child that could not be started, that ran (Wait,
	// the sync forms), or whose context was done before the start; ""
	// on those of bad input, of a failed preparation, and of Kill and
	// the IPC channel.
	Cmd string
	// ExitCode is the child's exit status when it exited; -1 when it was
	// not started, was ended by a signal, or could not be waited for.
	ExitCode int
	// Signal is the name of the signal that ended the child ("SIGTERM"),
	// or "" when it exited or was not started.
	Signal string
	// Killed reports that childproc delivered a signal to the child:
	// Kill, KillTree, Timeout, abort or MaxBuffer. It is set on the
	// errors of a child that ran (Wait, and a sync form's timeout or
	// overflow), even when the child then ended on its own.
	Killed bool
	// TimedOut reports that [Options.Timeout] ran out and the child was
	// sent KillSignal (on Wait's error, and a sync form's ETIMEDOUT).
	TimedOut bool
	// ForceKilled reports that the child outlived KillSignal by
	// ForceKillAfter and was sent SIGKILL (on Wait's error, and a sync
	// form's ETIMEDOUT or ENOBUFS).
	ForceKilled bool
	// Limit names the limit of [Options.Limits] that ended the child:
	// "cpu", "filesize" or "memory"; "" when there is no evidence that
	// one did (see Limits for the evidence), when childproc signalled
	// the child, and always in SpawnSync, which reports a failed child
	// in its result rather than as an error. The message then ends with
	// the limit and its value: "(memory limit 100 MiB)".
	Limit string
	// Stdout and Stderr are what the child wrote, as far as it was kept,
	// on the errors of a child that ran in Exec, ExecFile or a sync form
	// (each possibly truncated to MaxBuffer; empty, not nil, when the
	// child wrote nothing); nil in Spawn and Fork, whose output the
	// caller reads, and for a stream that was not a pipe.
	Stdout []byte
	Stderr []byte
	// Err is the cause, reached by Unwrap: the syscall.Errno of a failed
	// system call, the context's cause after an abort, an error saying
	// "maxBuffer length exceeded", ErrWaitDelay, the error of a copy to or from an
	// io.Writer or io.Reader entry; nil for bad input and for a child
	// that exited non-zero or was ended by a signal.
	Err error

	msg string
}

// Error returns a message in Node's words: "spawn nope ENOENT",
// "Command failed: ls /nope: exit status 2\n<stderr>".
func (e *Error) Error() string { return e.msg }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether e is target: ErrTimeout for a child that Timeout
// stopped, ErrMaxBuffer for a child that passed MaxBuffer in a sync form
// (the async forms carry ErrMaxBuffer as their cause).
func (e *Error) Is(target error) bool {
	switch target {
	case ErrTimeout:
		return e.TimedOut
	case ErrMaxBuffer:
		return e.Code == CodeNoBufs
	}
	return false
}

// argError reports bad input. It never comes with a started process.
func argError(code, format string) *Error {
	return &Error{Code: code, ExitCode: -1, msg: format}
}

// spawnError reports a child that could not be started.
func spawnError(syscallName, file string, args []string, cmd string, errno syscall.Errno, path string) *Error {
	code := errnoName(errno)
	if path == "" {
		path = file
	}
	msg := syscallName + " " + code
	if path != file {
		msg += " (" + path + ")"
	}
	return &Error{
		Code:      code,
		Errno:     errno,
		Syscall:   syscallName,
		Path:      path,
		Spawnargs: args,
		Cmd:       cmd,
		ExitCode:  -1,
		Err:       errno,
		msg:       msg,
	}
}

// commandLine joins a file and its arguments as Node's err.cmd does.
func commandLine(file string, args []string) string {
	if len(args) == 0 {
		return file
	}
	return file + " " + strings.Join(args, " ")
}

// abort sets e's code, cause and message for a child stopped, or never
// started, because its context ended: Node's message with the cause, as
// Go errors read ("The operation was aborted: context deadline exceeded").
func (e *Error) abort(cause error) *Error {
	e.Code, e.Err, e.msg = CodeAbort, cause, "The operation was aborted"
	if cause != nil {
		e.msg += ": " + cause.Error()
	}
	return e
}

// commandFailed sets e's message from its fields, for a child that exited
// non-zero or was ended by a signal: "Command failed: cmd: <how>", the
// limit that ended it with its value from l, then stderr on the lines
// after.
func (e *Error) commandFailed(l *Limits) *Error {
	var b strings.Builder
	b.WriteString("Command failed: ")
	b.WriteString(e.Cmd)
	b.WriteString(": ")
	b.WriteString(exitDescription(e.ExitCode, e.Signal, e.TimedOut))
	if e.Limit != "" {
		b.WriteString(" (" + l.describe(e.Limit) + ")")
	}
	if s := strings.TrimRight(string(e.Stderr), "\n"); s != "" {
		b.WriteString("\n")
		b.WriteString(s)
	}
	e.msg = b.String()
	return e
}

// exitDescription says how a child ended: "exit status 2", "killed by
// SIGTERM", "timed out, killed by SIGTERM", "timed out, exit status 7".
func exitDescription(exitCode int, signal string, timedOut bool) string {
	how := "exit status " + strconv.Itoa(exitCode)
	if signal != "" {
		how = "killed by " + signal
	}
	if timedOut {
		how = "timed out, " + how
	}
	return how
}

// errnoOf extracts the system error number of err, or returns def.
func errnoOf(err error, def syscall.Errno) syscall.Errno {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno
	}
	if errors.Is(err, fs.ErrNotExist) {
		return syscall.ENOENT
	}
	if errors.Is(err, fs.ErrPermission) {
		return syscall.EACCES
	}
	return def
}

// sysError reports a system call that failed while preparing a child.
func sysError(syscallName, path string, err error) *Error {
	errno := errnoOf(err, 0)
	code := "UNKNOWN"
	if errno != 0 {
		code = errnoName(errno)
	}
	msg := syscallName + " " + code
	if path != "" {
		msg += " " + path
	}
	return &Error{Code: code, Errno: errno, Syscall: syscallName, Path: path, ExitCode: -1, Err: err, msg: msg}
}

func typeName(v any) string { return fmt.Sprintf("type %T", v) }
