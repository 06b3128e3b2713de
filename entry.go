package childproc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/childproc/childproc/ipc"
)

// An EntryFunc is the body of a Go entry point: the code a forked copy of
// the running binary runs instead of main. ch is the channel to the
// parent; args are the arguments given to ForkEntry. ctx is cancelled
// when the parent disconnects or dies. Returning nil exits the process
// with status 0; an error is printed to stderr and exits with status 1.
type EntryFunc func(ctx context.Context, ch *ipc.Channel, args []string) error

// entryEnv names the entry a forked process is to run.
const entryEnv = "CHILDPROC_ENTRY"

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

// RunEntry runs the entry point this process was forked into by
// ForkEntry, then exits; in any other process it returns at once. Call it
// first thing in main, and in TestMain for tests that fork entries:
//
//	func main() {
//		childproc.RunEntry()
//		...
//	}
//
// A process runs an entry only when it was started as one: by ForkEntry,
// which names the entry in the environment and gives it an IPC channel.
// The name is removed from the environment before the entry runs, so the
// entry's own children run main as usual; a name found without a channel
// (left in an environment by hand) is removed and ignored.
func RunEntry() {
	name, ok := os.LookupEnv(entryEnv)
	if !ok {
		return
	}
	os.Unsetenv(entryEnv)
	ch, err := ipc.Parent()
	if errors.Is(err, ipc.ErrNoChannel) {
		return
	}
	os.Exit(runEntry(name, ch, err))
}

func runEntry(name string, ch *ipc.Channel, err error) int {
	fn, ok := lookupEntry(name)
	if !ok {
		fmt.Fprintf(os.Stderr, "childproc: no entry %q in this binary (have: %s)\n", name, strings.Join(entryNames(), ", "))
		return 127
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "childproc: entry %q: %v\n", name, err)
		return 127
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
		fmt.Fprintf(os.Stderr, "childproc: entry %q: %v\n", name, err)
		return 1
	}
	return 0
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
// An unknown name is an *Error with code ERR_UNKNOWN_ENTRY.
func ForkEntry(ctx context.Context, name string, args []string, opts *Options) (*Child, error) {
	if _, ok := lookupEntry(name); !ok {
		return nil, argError(CodeUnknownEntry, "No entry "+quote(name)+" is registered in this binary")
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
	env := set.Env
	if env == nil {
		env = os.Environ()
	}
	set.Env = append(env[:len(env):len(env)], entryEnv+"="+name)
	if set.Argv0 == "" {
		set.Argv0 = os.Args[0]
	}
	return forkSpec(ctx, self, args, set)
}

// CodeUnknownEntry reports a ForkEntry of a name nobody registered.
const CodeUnknownEntry = "ERR_UNKNOWN_ENTRY"
