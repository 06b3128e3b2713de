package childproc

import (
	"errors"
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
// Options.WaitDelay ran out, so childproc closed it.
var ErrWaitDelay = errors.New("stdio still open after WaitDelay")

// Error is the one error type of package childproc. It carries the fields
// of Node's child_process errors; a field that does not apply is zero
// (ExitCode is -1 when the child did not exit normally).
//
// Use errors.As to reach it and errors.Is to test its cause: a missing
// program satisfies errors.Is(err, fs.ErrNotExist), an abort
// errors.Is(err, context.Canceled). The failure of a Go entry point
// (ForkEntry) that returned an error has an *EntryError as its Err.
type Error struct {
	Code        string        // "ENOENT", "EACCES", "ABORT_ERR", "ERR_CHILD_PROCESS_STDIO_MAXBUFFER", ...; "" for a plain non-zero exit, as in Node
	Errno       syscall.Errno // the system error number (positive; Node reports it negated), 0 if none
	Syscall     string        // "spawn ls", "spawnSync ls", "kill"
	Path        string        // the file that could not be run (or the missing cwd)
	Spawnargs   []string      // the arguments, without argv[0]
	Cmd         string        // the command line: the file and its arguments joined by spaces, or Exec's command
	ExitCode    int           // the exit status, or -1 when the child was not started or was ended by a signal
	Signal      string        // the signal that ended the child ("SIGTERM"), or ""
	Killed      bool          // childproc delivered a signal to the child (Kill, Timeout, abort, MaxBuffer)
	TimedOut    bool          // Options.Timeout ran out and the child was sent KillSignal
	ForceKilled bool          // the child outlived KillSignal by ForceKillAfter and was sent SIGKILL
	Limit       string        // the resource limit that ended the child: "cpu", "filesize", or "memory" (a child that failed under a memory cap)
	Stdout      []byte        // buffered output (Exec, ExecFile and the sync forms), possibly truncated to MaxBuffer
	Stderr      []byte
	Err         error // the underlying cause, if any

	msg string
}

// Error returns a message in Node's words: "spawn nope ENOENT",
// "Command failed: ls /nope: exit status 2\n<stderr>".
func (e *Error) Error() string { return e.msg }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

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

// failedMessage builds "Command failed: cmd: <how>\n<stderr>".
func failedMessage(cmd string, exitCode int, signal string, timedOut bool, stderr []byte) string {
	var b strings.Builder
	b.WriteString("Command failed: ")
	b.WriteString(cmd)
	b.WriteString(": ")
	b.WriteString(exitDescription(exitCode, signal, timedOut))
	if s := strings.TrimRight(string(stderr), "\n"); s != "" {
		b.WriteString("\n")
		b.WriteString(s)
	}
	return b.String()
}

// exitDescription says how a child ended: "exit status 2", "killed by
// SIGTERM", "timed out, killed by SIGTERM".
func exitDescription(exitCode int, signal string, timedOut bool) string {
	switch {
	case timedOut:
		return "timed out, killed by " + signal
	case signal != "":
		return "killed by " + signal
	}
	return "exit status " + strconv.Itoa(exitCode)
}
