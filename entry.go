package childproc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/childproc/childproc/internal/handoff"
	"github.com/childproc/childproc/ipc"
)

// An EntryFunc is the body of a Go entry point: the code a forked copy of
// the running binary runs instead of main. ch is the channel to the
// parent; args are the arguments given to ForkEntry. ctx is cancelled
// when the parent disconnects or dies. Returning nil exits the process
// with status 0. An error is printed to stderr and exits with status 1;
// the parent's Wait then returns an *Error whose Err is an *EntryError
// that carries the error's message.
type EntryFunc func(ctx context.Context, ch *ipc.Channel, args []string) error

// EntryGrace is how long an entry may go on after its parent has
// disconnected or died before its process exits anyway: the child-side
// safety net that keeps forked children from outliving their parent on
// every platform.
var EntryGrace = 5 * time.Second

var entries = struct {
	sync.RWMutex
	m map[string]EntryFunc
}{m: map[string]EntryFunc{}}

// RegisterEntry registers fn as the entry point called name, for
// ForkEntry. Register entries from package-level variable declarations or
// init functions, so that the parent and the forked child (the same
// binary) know the same entries. Registering a name twice, an empty name
// or a nil fn panics, as http.Handle does: it is a programming error.
func RegisterEntry(name string, fn EntryFunc) string {
	if name == "" || fn == nil {
		panic("childproc: RegisterEntry with an empty name or a nil func")
	}
	entries.Lock()
	defer entries.Unlock()
	if _, dup := entries.m[name]; dup {
		panic("childproc: entry " + name + " registered twice")
	}
	entries.m[name] = fn
	return name
}

func lookupEntry(name string) (EntryFunc, bool) {
	entries.RLock()
	defer entries.RUnlock()
	fn, ok := entries.m[name]
	return fn, ok
}

// The child's side of a forked entry. ForkEntry hands the child a socket
// (a handoff, proof that it was forked for an entry) and sends the
// entry's name on it; the child claims it in childproc's init, before
// main, and reports on the same socket how far it got: claimed, run by
// RunEntry, and the error the entry returned. The parent reads the
// report once the child has been reaped.

// forked is the entry this process was forked into, if any.
var forked struct {
	name string      // "" when this process is no forked entry
	sock *os.File    // the handoff, for the report to the parent
	ran  atomic.Bool // RunEntry has started the entry
}

// The marks of an entry's report, in the order the child writes them.
const (
	markClaimed = 'c' // the handoff was claimed
	markRan     = 'r' // RunEntry ran
	markFailed  = 'e' // the entry failed; its message follows, to EOF
)

// maxEntryName bounds the name a forked child reads from its handoff;
// maxEntryMessage bounds the message of an *EntryError.
const (
	maxEntryName    = 1 << 16
	maxEntryMessage = 4000
)

// claimEntry claims the handoff of a forked entry and reads the entry's
// name. A process that proves its handoff but cannot read the name (its
// parent died at once) exits; one that does not prove it runs as usual.
func claimEntry(sock *os.File, _ error) {
	if sock == nil {
		return
	}
	name, err := handoff.ReadOrders(sock, maxEntryName)
	if err == nil && name == "" {
		err = errNoEntryName
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "childproc: forked entry: %v\n", err)
		os.Exit(127)
	}
	sock.Write([]byte{markClaimed})
	forked.name, forked.sock = name, sock
}

// errNoEntryName is a forked entry's handoff that ended before the name.
var errNoEntryName = errors.New("its parent sent no entry name")

// RunEntry runs the entry point this process was forked into by
// ForkEntry, then exits; in any other process it returns at once. Call it
// first thing in main, and in TestMain for tests that fork entries:
//
//	func main() {
//		childproc.RunEntry()
//		...
//	}
//
// A process runs an entry only when ForkEntry started it for one: the
// child proves it with a socket its parent handed it, checked in
// childproc's init before main, and never in a setuid, setgid or
// file-capability process. CHILDPROC_REEXEC naming an entry in an
// environment without that proof (left there by hand, or forged) is
// removed and ignored, and main runs as usual. A forked process that runs main without calling RunEntry
// cannot fork entries itself (ForkEntry fails with CodeEntryNotRun), and
// its parent's Wait reports CodeEntryNotRun, so that a forgotten RunEntry
// is an error rather than a program that forks itself again and again.
func RunEntry() {
	if forked.sock == nil || !forked.ran.CompareAndSwap(false, true) {
		return
	}
	forked.sock.Write([]byte{markRan})
	ch, err := ipc.Parent()
	os.Exit(runEntry(forked.name, ch, err))
}

func runEntry(name string, ch *ipc.Channel, err error) int {
	fn, ok := lookupEntry(name)
	if !ok {
		return failEntry(name, fmt.Sprintf("no entry %q in this binary (have: %s)", name, strings.Join(entryNames(), ", ")), 127)
	}
	if err != nil {
		return failEntry(name, err.Error(), 127)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-ch.Disconnected():
		case <-ctx.Done():
			return
		}
		cancel()
		time.AfterFunc(EntryGrace, func() {
			fmt.Fprintf(os.Stderr, "childproc: entry %q still running %v after its parent went away; exiting\n", name, EntryGrace)
			os.Exit(1)
		})
	}()
	err = fn(ctx, ch, os.Args[1:])
	ch.Close()
	if err != nil {
		return failEntry(name, err.Error(), 1)
	}
	return 0
}

// failEntry reports a failed entry to stderr and to the parent, and
// returns status.
func failEntry(name, message string, status int) int {
	fmt.Fprintf(os.Stderr, "childproc: entry %q: %s\n", name, message)
	forked.sock.Write(append([]byte{markFailed}, truncateMessage(message)...))
	return status
}

// truncateMessage cuts message to maxEntryMessage bytes, at the start of
// a character.
func truncateMessage(message string) string {
	if len(message) <= maxEntryMessage {
		return message
	}
	n := maxEntryMessage
	for n > 0 && !utf8.RuneStart(message[n]) {
		n--
	}
	return message[:n]
}

func entryNames() []string {
	entries.RLock()
	defer entries.RUnlock()
	names := make([]string, 0, len(entries.m))
	for n := range entries.m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ForkEntry forks the running binary into its entry point called name
// (see RegisterEntry and RunEntry): the Go counterpart of forking a
// module, with no second binary to build or ship. The child is this
// binary run again, with args, an IPC channel and Options as in Fork.
//
// Errors: an unknown name is an *Error with code ERR_UNKNOWN_ENTRY.
// ForkEntry in a process that was itself forked into an entry but runs
// main (RunEntry was not called first) is an *Error with code
// CodeEntryNotRun; in a setuid, setgid or file-capability process, whose
// child would not run the entry, one with code CodeSecureExec. When the
// entry fails, Wait returns an *Error whose message names the entry
// ("entry 'worker' failed: ...") and, when the entry returned an error,
// whose Err is an *EntryError with that error's message; a child that
// ran main instead of the entry makes Wait return CodeEntryNotRun.
func ForkEntry(ctx context.Context, name string, args []string, opts *Options) (*Child, error) {
	if _, ok := lookupEntry(name); !ok {
		return nil, argError(CodeUnknownEntry, "No entry "+quote(name)+" is registered in this binary")
	}
	if err := checkEntryFork(name); err != nil {
		return nil, err
	}
	if err := checkCommand("file", name, args); err != nil {
		return nil, err
	}
	set, err := check(opts)
	if err != nil {
		return nil, err
	}
	self, serr := selfExe()
	if serr != nil {
		return nil, sysError("executable", "", serr)
	}
	if set.Argv0 == "" {
		set.Argv0 = os.Args[0]
	}
	return forkSpec(ctx, self, args, set, name)
}

// checkEntryFork refuses ForkEntry where the child could not run the
// entry: in a forked entry that runs main, and in secure execution.
func checkEntryFork(name string) *Error {
	if forked.sock != nil && !forked.ran.Load() {
		return argError(CodeEntryNotRun, "ForkEntry "+quote(name)+" in a process forked into entry "+quote(forked.name)+" that runs main instead: "+runEntryAdvice)
	}
	if handoff.SecureExec() {
		return argError(CodeSecureExec, "ForkEntry "+quote(name)+" in a setuid, setgid or file-capability process: its child would not run the entry, since childproc's modes never act in such a process")
	}
	return nil
}

// runEntryAdvice says what a program that forks entries must do.
const runEntryAdvice = "call childproc.RunEntry() first in main (in a test binary, first in TestMain)"

// CodeUnknownEntry reports a ForkEntry of a name nobody registered.
const CodeUnknownEntry = "ERR_UNKNOWN_ENTRY"

// CodeEntryNotRun reports a forked entry that did not run because
// RunEntry was not called first in main: Wait's error in its parent, and
// ForkEntry's in the child that ran main instead.
const CodeEntryNotRun = "ERR_CHILDPROC_ENTRY_NOT_RUN"

// EntryError is the error a Go entry point returned in the forked child,
// as its parent sees it: the Err of the *Error that Wait returns. Reach
// it with errors.As.
type EntryError struct {
	Name    string // the entry
	Message string // the Error() of what the entry returned, cut to 4000 bytes
}

func (e *EntryError) Error() string { return "entry " + quote(e.Name) + " failed: " + e.Message }

// The parent's side of a forked entry.

// entryStage is how far a forked entry got, by its report.
type entryStage int

const (
	entryUnclaimed entryStage = iota // the child never claimed its handoff
	entryClaimed                     // it did, but RunEntry never ran: main ran instead
	entryRan                         // RunEntry ran the entry
	entryFailed                      // the entry failed, with a message
)

// entryReport is what a forked entry reported to its parent.
type entryReport struct {
	stage   entryStage
	message string // for entryFailed
}

// parseEntryReport reads what a forked entry wrote on its handoff: the
// marks in order, the failure's message last. Anything else is not ok.
func parseEntryReport(data []byte) (entryReport, bool) {
	stages := []byte{markClaimed, markRan, markFailed}
	r := entryReport{}
	for i, mark := range stages {
		if len(data) == i {
			return r, true
		}
		if data[i] != mark {
			return entryReport{}, false
		}
		r.stage = entryStage(i + 1)
	}
	r.message = string(data[len(stages):])
	return r, len(r.message) <= maxEntryMessage
}

// encode writes the report as the child writes it.
func (r entryReport) encode() []byte {
	data := []byte{markClaimed, markRan, markFailed}[:r.stage]
	return append(data, r.message...)
}
