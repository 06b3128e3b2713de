package childproc

import (
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/childproc/childproc/ipc"
)

// DefaultMaxBuffer is Node's maxBuffer default: 1 MiB per stream.
const DefaultMaxBuffer = 1024 * 1024

// StdioMode names one of Node's string forms of a stdio entry.
type StdioMode string

// The stdio modes. See Options.Stdio.
const (
	Pipe       StdioMode = "pipe"       // a new pipe; the parent's end is Child.Stdin, Stdout, Stderr or Stdio(i)
	Overlapped StdioMode = "overlapped" // the same as Pipe outside Windows
	Ignore     StdioMode = "ignore"     // /dev/null for fds 0-2; the fd is left closed from 3 up
	Inherit    StdioMode = "inherit"    // the parent's own fd with the same number
	IPC        StdioMode = "ipc"        // the message channel (Fork); at most one entry
)

// Options configures a child. The zero value, like a nil *Options, means
// Node's defaults. A field that an entry point does not read is ignored,
// as Node ignores it:
//
//   - Every entry point (Spawn, Exec, ExecFile, Fork, ForkEntry and the
//     sync forms) reads Cwd, Env, Detached, UID, GID, Timeout,
//     KillSignal, MaxBuffer, WaitDelay, Input (when stdin is a pipe),
//     KillTree, SurviveParent, ForceKillAfter, Limits and WindowsHide.
//   - Argv0: Spawn, SpawnSync, ExecFileSync, Fork and ForkEntry; not
//     Exec, ExecFile or ExecSync.
//   - Stdio: every entry point but Exec and ExecFile, whose stdin is a
//     pipe and whose stdout and stderr are buffered.
//   - Shell: Spawn, ExecFile, SpawnSync and ExecFileSync, which use no
//     shell when it is ""; Exec and ExecSync, which use DefaultShell
//     then; not Fork or ForkEntry.
//   - Serialization: checked by every entry point, used by a child with
//     an IPC entry in Stdio (Fork, ForkEntry, Spawn); Channel likewise.
//   - ExecPath and ExecArgv: Fork of a .js, .cjs or .mjs module.
//   - Silent: Fork and ForkEntry, when Stdio is nil.
//   - WindowsVerbatimArguments: none (see the field).
type Options struct {
	// Cwd is the child's working directory; "" means the parent's. A
	// relative program path, and a program found through a relative
	// PATH entry, are relative to it, as for execvp run in the child.
	Cwd string
	// Env is the child's environment as "KEY=value" entries; nil means
	// the parent's (os.Environ). On Unix a program name without a slash
	// is looked up in this environment's PATH (or /usr/bin:/bin when it
	// has none), whose empty and relative entries are relative to Cwd;
	// on Windows in the parent's PATH, as os/exec does.
	Env []string
	// Argv0 replaces the argv[0] the child sees (Spawn, SpawnSync,
	// ExecFileSync, Fork; ForkEntry defaults it to os.Args[0]). The file
	// run is unchanged.
	Argv0 string
	// Stdio gives the child's file descriptors, index i being fd i. An
	// entry is a StdioMode, an int (a parent fd to share; a negative int
	// means Pipe), an *os.File (shared as is), an io.Reader (at index 0,
	// or an index ≥ 3 holding no io.Writer: the child reads what it
	// yields), an io.Writer (the child's output is copied to it), or nil
	// (Pipe for 0-2, Ignore from 3 up). A shorter slice is padded with
	// nil. nil Stdio means three pipes.
	Stdio []any
	// Detached runs the child in a new session (setsid): it leads its own
	// process group, has no controlling terminal and is not killed with
	// the parent. Unix only: Windows ignores it.
	Detached bool
	// UID and GID, when not nil, set the child's user and group ids (a
	// negative id, or one past int32, is an error). Unix only: Windows
	// ignores them.
	UID, GID *int
	// Shell runs the command through this shell as Shell -c "file args...",
	// with the arguments joined by spaces and not quoted, as Node's shell
	// option does. "" means no shell (Exec always uses one: DefaultShell
	// when Shell is "").
	Shell string
	// Timeout, when positive, sends KillSignal to the child once it has run
	// that long. Negative is an error.
	Timeout time.Duration
	// KillSignal is the signal of Kill(nil), Timeout, abort and MaxBuffer;
	// nil means SIGTERM.
	KillSignal os.Signal
	// MaxBuffer is the most bytes kept per buffered stream (Exec,
	// ExecFile, the sync forms). Past it the child is sent KillSignal and
	// the call fails with CodeMaxBuffer (async) or CodeNoBufs (sync),
	// keeping the first MaxBuffer bytes. 0 means DefaultMaxBuffer;
	// math.MaxInt means no limit (Node's Infinity); negative is an error.
	MaxBuffer int
	// WaitDelay bounds how long Wait waits, after the child has exited,
	// for its stdio to be closed by grandchildren that inherited it.
	// When it runs out, childproc closes its ends of the pipes and Wait
	// returns (with CodeWaitDelay if the child had succeeded). 0 means no
	// bound, as in Node and os/exec.
	WaitDelay time.Duration
	// Input is written to the child's stdin, which is then closed. Node
	// reads it in the sync forms; childproc also honours it in every
	// other form whose stdin is a pipe (Child.Stdin is then nil).
	Input []byte
	// Serialization is the IPC channel's format: "json" (the default, "")
	// or the name of a codec added with ipc.RegisterCodec; any other name
	// is an error before anything starts, except "advanced". That is
	// Node's other format and is accepted as Node accepts it, but package
	// ipc has no codec for it: unless one is registered under that name,
	// a child with an IPC entry fails with CodeInvalidArgValue before it
	// starts (a child without one ignores the field).
	Serialization string
	// Channel tunes the IPC channel beyond Serialization (which names
	// the format; Channel.Serialization is ignored): MaxMessageSize,
	// QueueLen, QueueBytes, SpinWait. nil means package ipc's defaults.
	// Channel.PeerDone is set by childproc to the child's exit.
	Channel *ipc.Options
	// ExecPath runs .js, .cjs and .mjs modules in Fork; "" means "node"
	// from PATH.
	ExecPath string
	// ExecArgv are ExecPath's own arguments, placed before the module
	// (Fork of a .js, .cjs or .mjs module).
	ExecArgv []string
	// Silent makes Fork and ForkEntry pipe the child's stdin, stdout and
	// stderr instead of sharing the parent's, when Stdio is nil.
	Silent bool
	// KillTree makes every stop of the child (Timeout, abort, MaxBuffer,
	// KillTree(nil)) reach its whole process tree, not just the child, and
	// makes the tree die with the parent even when the parent is
	// SIGKILLed (Linux). The child leads its own process group. See
	// Child.KillTree.
	KillTree bool
	// SurviveParent lets the child live on when this process dies, as
	// Node's children do. By default (false) a child is killed with its
	// parent, on Linux even when the parent is SIGKILLed (a parent-death
	// signal, and a guardian for a KillTree child's tree); to tie the
	// signal to a thread that never ends, such children are forked from
	// one dedicated thread, a hand-off that costs about a tenth of a spawn
	// of /bin/true. With SurviveParent the child gets neither and is
	// forked from the calling thread, as os/exec does. Detached implies
	// it. Elsewhere than Linux children survive their parent anyway.
	SurviveParent bool
	// ForceKillAfter is how long a stop waits after KillSignal before it
	// sends SIGKILL: 0 means DefaultForceKillAfter (5 s); negative means
	// never.
	ForceKillAfter time.Duration
	// Limits caps the child's memory, CPU time, processes, open files,
	// file size and core dumps; see Limits. nil means none.
	Limits *Limits
	// WindowsHide hides the child's console window. Windows only.
	WindowsHide bool
	// WindowsVerbatimArguments is accepted for Node's sake and has no
	// effect: on Windows childproc passes a cmd.exe command line (Exec,
	// ExecSync, Shell set to cmd.exe) without quoting, as Node does for
	// a shell, and quotes every other argument list.
	WindowsVerbatimArguments bool
}

// settings are Options after validation, with defaults filled in.
type settings struct {
	Options
	killSignal     os.Signal
	maxBuffer      int
	forceKillAfter time.Duration
}

// check validates o and fills in defaults. A nil o means the zero Options.
func check(o *Options) (*settings, *Error) {
	s := &settings{}
	if o != nil {
		s.Options = *o
	}
	if strings.IndexByte(s.Cwd, 0) >= 0 {
		return nil, argError(CodeInvalidArgValue, "The property 'options.cwd' must be a string without null bytes")
	}
	if strings.IndexByte(s.Argv0, 0) >= 0 {
		return nil, argError(CodeInvalidArgValue, "The property 'options.argv0' must be a string without null bytes")
	}
	if strings.IndexByte(s.Shell, 0) >= 0 {
		return nil, argError(CodeInvalidArgValue, "The property 'options.shell' must be a string without null bytes")
	}
	if strings.IndexByte(s.ExecPath, 0) >= 0 {
		return nil, argError(CodeInvalidArgValue, "The property 'options.execPath' must be a string without null bytes")
	}
	for _, a := range s.ExecArgv {
		if strings.IndexByte(a, 0) >= 0 {
			return nil, argError(CodeInvalidArgValue, "The property 'options.execArgv' must be strings without null bytes")
		}
	}
	for _, kv := range s.Env {
		if strings.IndexByte(kv, 0) >= 0 {
			return nil, argError(CodeInvalidArgValue, "The property 'options.env' must hold strings without null bytes")
		}
		if i := strings.IndexByte(kv, '='); i <= 0 && !(i == 0 && strings.Count(kv, "=") > 1) {
			// "=C:=C:\\" style entries (Windows) start with '='; anything else needs KEY=value.
			return nil, argError(CodeInvalidArgValue, "The property 'options.env' must hold KEY=value entries, got "+quote(kv))
		}
	}
	if s.Timeout < 0 {
		return nil, argError(CodeOutOfRange, "The value of \"timeout\" is out of range. It must be >= 0, got "+s.Timeout.String())
	}
	if s.WaitDelay < 0 {
		return nil, argError(CodeOutOfRange, "The value of \"options.waitDelay\" is out of range. It must be >= 0, got "+s.WaitDelay.String())
	}
	switch {
	case s.MaxBuffer < 0:
		return nil, argError(CodeOutOfRange, "The value of \"options.maxBuffer\" is out of range. It must be >= 0")
	case s.MaxBuffer == 0:
		s.maxBuffer = DefaultMaxBuffer
	default:
		s.maxBuffer = s.MaxBuffer
	}
	for _, id := range []*int{s.UID, s.GID} {
		if id != nil && (*id < 0 || *id > math.MaxInt32) {
			return nil, argError(CodeOutOfRange, "The value of \"options.uid\" and \"options.gid\" must be an int32 >= 0")
		}
	}
	if s.Limits != nil && s.Limits.CPUTime < 0 {
		return nil, argError(CodeOutOfRange, "The value of \"options.limits.cpuTime\" is out of range. It must be >= 0")
	}
	switch s.Serialization {
	case "", "json", "advanced":
	default:
		if _, ok := ipc.LookupCodec(s.Serialization); !ok {
			return nil, argError(CodeInvalidArgValue, "The property 'options.serialization' must be one of: 'json', 'advanced', or a codec registered with ipc.RegisterCodec ("+strings.Join(ipc.Codecs(), ", ")+"). Received "+quote(s.Serialization))
		}
	}
	switch {
	case s.ForceKillAfter == 0:
		s.forceKillAfter = DefaultForceKillAfter
	case s.ForceKillAfter > 0:
		s.forceKillAfter = s.ForceKillAfter
	}
	s.killSignal = s.KillSignal
	if s.killSignal == nil {
		s.killSignal = syscall.SIGTERM
	}
	if signalName(s.killSignal) == "" {
		return nil, argError(CodeUnknownSignal, "Unknown signal: "+s.killSignal.String())
	}
	return s, nil
}

// checkCommand validates a program name and its arguments.
func checkCommand(what, file string, args []string) *Error {
	if file == "" {
		return argError(CodeInvalidArgValue, "The argument '"+what+"' cannot be empty. Received ''")
	}
	if strings.IndexByte(file, 0) >= 0 {
		return argError(CodeInvalidArgValue, "The argument '"+what+"' must be a string without null bytes. Received "+quote(file))
	}
	for i, a := range args {
		if strings.IndexByte(a, 0) >= 0 {
			return argError(CodeInvalidArgValue, "The argument 'args["+strconv.Itoa(i)+"]' must be a string without null bytes. Received "+quote(a))
		}
	}
	return nil
}

func quote(s string) string {
	const max = 60
	if len(s) > max {
		s = s[:max] + "..."
	}
	return "'" + strings.ReplaceAll(s, "\x00", `\x00`) + "'"
}

// isReader and isWriter classify an io.Reader / io.Writer stdio entry.
func isReader(v any) bool { _, ok := v.(io.Reader); return ok }
func isWriter(v any) bool { _, ok := v.(io.Writer); return ok }
