package childproc

import (
	"io"
	"log/slog"
	"math"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/childproc/childproc/internal/handoff"
	"github.com/childproc/childproc/ipc"
)

// DefaultMaxBuffer is Node's maxBuffer default: 1 MiB per stream.
const DefaultMaxBuffer = 1024 * 1024

// StdioMode names one of Node's string forms of a stdio entry.
type StdioMode string

// The stdio modes. See [Options.Stdio].
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
	// AddEnv adds "KEY=value" entries to the environment the child gets
	// (Env, or the parent's when Env is nil) without replacing it: an
	// entry whose key is already there replaces that one, as execa's
	// env does with extendEnv. nil adds nothing.
	AddEnv []string
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
	// nil. nil Stdio means three pipes. A typed nil (a nil *bytes.Buffer,
	// say) is an error.
	//
	// Equal io.Writer entries (compared with ==, as os/exec compares
	// Stdout and Stderr) share one pipe, so they get one Write at a time,
	// in the order the child wrote. Another child's Stdin at fd 1 or 2, or
	// (on Linux and Windows) its Stdout or Stderr at fd 0, is the pipe
	// itself, not a copy: the child reads and writes it directly, as in a
	// shell pipeline, and the other child's Wait leaves such a Stdout to
	// this child until it has exited. A Stdout that holds drained bytes,
	// has ended, or is being read at that moment is copied instead. An io.Reader at fd 0 is copied by a goroutine; an
	// error it returns is Wait's error, as in os/exec.
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
	// Timeout, when positive, stops the child once it has run that long:
	// KillSignal, then SIGKILL after ForceKillAfter, to the child and to
	// the processes it started (see Child.KillTree). Negative is an
	// error.
	Timeout time.Duration
	// KillSignal is the signal of Kill(nil), Timeout, abort and MaxBuffer;
	// nil means SIGTERM.
	KillSignal os.Signal
	// MaxBuffer is the most bytes kept per buffered stream (Exec,
	// ExecFile, the sync forms). Past it the child is stopped as by
	// Timeout and the call fails with CodeMaxBuffer (async) or CodeNoBufs
	// (sync), keeping the first MaxBuffer bytes; what the other stream
	// holds is kept. For Spawn's pipes it is what Wait keeps in memory,
	// after the exit, of output not read yet: a stream nobody has read
	// keeps its first MaxBuffer bytes (a later Read then ends with
	// ErrTruncated), and a stream being read waits for its reader past
	// MaxBuffer. 0 means DefaultMaxBuffer; math.MaxInt means no limit
	// (Node's Infinity); negative is an error.
	MaxBuffer int
	// WaitDelay bounds how long Wait waits, after the child has exited,
	// for its stdio to be closed by grandchildren that inherited it.
	// When it runs out, childproc reads what the pipes hold without
	// waiting, delivers it, closes its ends of the pipes and Wait returns
	// (with CodeWaitDelay if the child had succeeded); a Read of Stdout
	// then gets the kept bytes and an error wrapping ErrWaitDelay. A
	// goroutine blocked in a Write of an io.Writer entry, or in a Read of
	// an io.Reader entry, cannot be interrupted: it is left to end when
	// that call returns, and may outlive Wait. 0 means no bound, as in
	// Node and os/exec; a child stopped by Timeout, abort or MaxBuffer has
	// StopWaitDelay when that is shorter.
	WaitDelay time.Duration
	// Input is written to the child's stdin, which is then closed. Node
	// reads it in the sync forms; childproc also honours it in Exec and
	// ExecFile and in every other form whose stdin is a pipe (Child.Stdin
	// is then nil).
	Input []byte
	// Serialization is the IPC channel's format: "json" (the default,
	// ""), "advanced" (Node's V8 serialization: see ipc.Advanced) or the
	// name of a codec added with ipc.RegisterCodec; any other name is a
	// CodeInvalidArgValue error before anything starts. A child without
	// an IPC entry ignores it.
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
	// KillTree(nil)) reach its whole process tree, not just the child and
	// what it started while it lives. The child leads its own process
	// group, and its environment carries a tree marker that its
	// descendants inherit. A descendant that left the group and was
	// orphaned is found only by that marker, so it is missed if it
	// cleared its environment, or if it is not dumpable (PR_SET_DUMPABLE
	// 0, as ssh-agent makes itself; every setuid or setgid program) and
	// this process lacks CAP_SYS_PTRACE (only root has it by default): the
	// kernel lets only a tracer read such a process's environment. Unless
	// SurviveParent or Detached is set, the tree also dies with the
	// parent, even a SIGKILLed one (Linux): the guardian sends it
	// KillSignal, then SIGKILL after ForceKillAfter (DefaultForceKillAfter
	// when negative) to what is left. Once the child itself has been
	// reaped, what the guardian stops of its tree is the processes that
	// carry its marker and their descendants, never its old process
	// group, whose number may by then belong to another process. See
	// Child.KillTree.
	KillTree bool
	// SurviveParent lets the child live on when this process dies, as
	// Node's children do. By default (false) a child dies with its
	// parent on Linux, even when the parent is SIGKILLed: the first such
	// child starts a guardian, one process per parent that holds a pidfd
	// of each of them and SIGKILLs those still running once the parent is
	// gone, however it went (a KillTree child's tree is stopped as
	// KillTree says). A pidfd never names another process that reused a
	// pid, and children that change credentials (setuid programs,
	// setpriv, UID) are covered as far as the parent's user may signal
	// them: always for a root parent; for another parent, unless both
	// the child's real and saved user ids became someone else's (sudo,
	// su). Not covered: a child whose Spawn had not yet returned when the
	// parent was killed, and children whose guardian was killed together
	// with the parent (a guardian killed alone is replaced at once, and
	// everything still running is registered with the new one). A spawn
	// that no guardian can take fails with an *Error whose Syscall is
	// "guardian", and leaves nothing running; in a setuid, setgid or
	// file-capability program no guardian can run, so such a child needs
	// SurviveParent. With SurviveParent the child is not registered.
	// Detached implies it. Elsewhere than Linux children survive their
	// parent anyway.
	SurviveParent bool
	// ForceKillAfter is how long a stop waits after KillSignal before it
	// sends SIGKILL to what is left of the child's tree: 0 means
	// DefaultForceKillAfter (5 s); negative means never. A stop whose
	// tree is gone before then ends within about 200 ms of its end,
	// holding nothing of it.
	ForceKillAfter time.Duration
	// Limits caps the child's memory, CPU time, processes, open files,
	// file size and core dumps; see Limits. nil means none.
	Limits *Limits
	// WindowsHide hides the child's console window. Windows only.
	WindowsHide bool
	// Logger, when not nil, is told of every start and exit of the child
	// at level Info ("childproc: spawn" with the pid, the file, the
	// arguments and Cwd; "childproc: exit" with the pid, the exit code or
	// signal and the time it ran), and of a start that failed, at level
	// Warn: a trace, like execa's verbose option. nil logs nothing.
	Logger *slog.Logger
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
	for _, step := range []func(*settings) *Error{checkStrings, checkEnv, checkDurations, checkBuffer, checkIDs, checkLimits, checkSerialization, checkKill} {
		if err := step(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// checkStrings rejects NUL bytes in Cwd, Argv0, Shell, ExecPath and
// ExecArgv.
func checkStrings(s *settings) *Error {
	for _, f := range []struct{ name, value string }{{"cwd", s.Cwd}, {"argv0", s.Argv0}, {"shell", s.Shell}, {"execPath", s.ExecPath}} {
		if strings.IndexByte(f.value, 0) >= 0 {
			return argError(CodeInvalidArgValue, "The property 'options."+f.name+"' must be a string without null bytes")
		}
	}
	for _, a := range s.ExecArgv {
		if strings.IndexByte(a, 0) >= 0 {
			return argError(CodeInvalidArgValue, "The property 'options.execArgv' must be strings without null bytes")
		}
	}
	return nil
}

// checkEnv requires KEY=value entries without NUL bytes in Env and
// AddEnv.
func checkEnv(s *settings) *Error {
	for _, f := range []struct {
		name string
		env  []string
	}{{"env", s.Env}, {"addEnv", s.AddEnv}} {
		for _, kv := range f.env {
			if strings.IndexByte(kv, 0) >= 0 {
				return argError(CodeInvalidArgValue, "The property 'options."+f.name+"' must hold strings without null bytes")
			}
			if i := strings.IndexByte(kv, '='); i <= 0 && !(i == 0 && strings.Count(kv, "=") > 1) {
				// "=C:=C:\\" style entries (Windows) start with '='; anything else needs KEY=value.
				return argError(CodeInvalidArgValue, "The property 'options."+f.name+"' must hold KEY=value entries, got "+quote(kv))
			}
		}
	}
	return nil
}

// checkDurations rejects a negative Timeout or WaitDelay.
func checkDurations(s *settings) *Error {
	if s.Timeout < 0 {
		return argError(CodeOutOfRange, "The value of \"timeout\" is out of range. It must be >= 0, got "+s.Timeout.String())
	}
	if s.WaitDelay < 0 {
		return argError(CodeOutOfRange, "The value of \"options.waitDelay\" is out of range. It must be >= 0, got "+s.WaitDelay.String())
	}
	return nil
}

// checkBuffer rejects a negative MaxBuffer and fills in its default.
func checkBuffer(s *settings) *Error {
	switch {
	case s.MaxBuffer < 0:
		return argError(CodeOutOfRange, "The value of \"options.maxBuffer\" is out of range. It must be >= 0")
	case s.MaxBuffer == 0:
		s.maxBuffer = DefaultMaxBuffer
	default:
		s.maxBuffer = s.MaxBuffer
	}
	return nil
}

// checkIDs requires UID and GID to be int32s >= 0.
func checkIDs(s *settings) *Error {
	for _, id := range []*int{s.UID, s.GID} {
		if id != nil && (*id < 0 || *id > math.MaxInt32) {
			return argError(CodeOutOfRange, "The value of \"options.uid\" and \"options.gid\" must be an int32 >= 0")
		}
	}
	return nil
}

// checkLimits rejects a negative CPUTime, and limits in a process where
// the shim never runs.
func checkLimits(s *settings) *Error {
	if s.Limits != nil && s.Limits.CPUTime < 0 {
		return argError(CodeOutOfRange, "The value of \"options.limits.cpuTime\" is out of range. It must be >= 0")
	}
	if !s.Limits.empty() && handoff.SecureExec() {
		return argError(CodeSecureExec, "The property 'options.limits' cannot be used in a setuid, setgid or file-capability process: childproc's shim never runs in one")
	}
	return nil
}

// checkSerialization requires a known Serialization.
func checkSerialization(s *settings) *Error {
	switch s.Serialization {
	case "", "json", "advanced":
		return nil
	}
	if _, ok := ipc.LookupCodec(s.Serialization); !ok {
		return argError(CodeInvalidArgValue, "The property 'options.serialization' must be one of: 'json', 'advanced', or a codec registered with ipc.RegisterCodec ("+strings.Join(ipc.Codecs(), ", ")+"). Received "+quote(s.Serialization))
	}
	return nil
}

// checkKill fills in ForceKillAfter and KillSignal, which must be a
// signal the platform knows.
func checkKill(s *settings) *Error {
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
		return argError(CodeUnknownSignal, "Unknown signal: "+s.killSignal.String())
	}
	return nil
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
	const most = 60
	if len(s) > most {
		s = s[:most] + "..."
	}
	return "'" + strings.ReplaceAll(s, "\x00", `\x00`) + "'"
}

// isReader and isWriter classify an io.Reader / io.Writer stdio entry.
func isReader(v any) bool { _, ok := v.(io.Reader); return ok }
func isWriter(v any) bool { _, ok := v.(io.Writer); return ok }
