package childproc

import (
	"context"
	"errors"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/childproc/childproc/internal/envlist"
	"github.com/childproc/childproc/internal/handoff"
	"github.com/childproc/childproc/internal/reexec"
	"github.com/childproc/childproc/ipc"
)

// Error codes of the IPC channel, as in Node.
const (
	CodeChannelClosed = "ERR_IPC_CHANNEL_CLOSED" // Send on a closed channel, or on a child without one
	CodeDisconnected  = "ERR_IPC_DISCONNECTED"   // Disconnect of a channel already disconnected
)

// Fork starts module with an IPC channel: Node's fork. module is an
// executable, or a .js, .cjs or .mjs file run by [Options.ExecPath] ("node"
// from PATH by default) after [Options.ExecArgv]. The child shares the
// parent's stdin, stdout and stderr (pipes with [Options.Silent]) and has
// the channel at fd 3; an explicit Stdio must hold an IPC entry. Use
// Send, Recv, Disconnect and Disconnected on the Child; the child side
// uses ipc.Parent (Go) or process.send / process.on('message') (Node).
// [Options.Shell] is ignored, as in Node.
func Fork(ctx context.Context, module string, args []string, opts *Options) (*Child, error) {
	if err := checkCommand("modulePath", module, args); err != nil {
		return nil, err
	}
	set, err := check(opts)
	if err != nil {
		return nil, err
	}
	file := module
	if isScript(module) {
		file = set.ExecPath
		if file == "" {
			file = "node"
		}
		args = append(append(append([]string(nil), set.ExecArgv...), module), args...)
	}
	return forkSpec(ctx, file, args, set, "")
}

// forkSpec starts file with the fork stdio and no shell; entry names the
// entry point for ForkEntry, and is "" for Fork.
func forkSpec(ctx context.Context, file string, args []string, set *settings, entry string) (*Child, error) {
	set.Shell = ""
	switch {
	case set.Stdio == nil && set.Silent:
		set.Stdio = []any{Pipe, Pipe, Pipe, IPC}
	case set.Stdio == nil:
		set.Stdio = []any{Inherit, Inherit, Inherit, IPC}
	case !hasIPC(set.Stdio):
		return nil, argError(CodeIPCRequired, "Forked processes must have an IPC channel, missing value 'ipc' in options.stdio")
	}
	sp := newSpec("spawn", file, args, set).withArgv0()
	sp.entry = entry
	c, serr := start(ctx, sp)
	if serr != nil {
		return nil, serr
	}
	return c, nil
}

func isScript(module string) bool {
	for _, ext := range []string{".js", ".cjs", ".mjs"} {
		if strings.HasSuffix(module, ext) {
			return true
		}
	}
	return false
}

func hasIPC(entries []any) bool {
	for _, e := range entries {
		if m, ok := e.(StdioMode); ok && m == IPC {
			return true
		}
	}
	return false
}

// ipcEnv returns the child's environment with the channel at fd set, in
// the serialization mode (any channel it inherited is dropped).
func ipcEnv(env []string, fd int, mode string) []string {
	if mode == "" {
		mode = "json"
	}
	return append(envlist.Without(env, ipc.EnvChannelFD, ipc.EnvSerialization), ipc.EnvChannelFD+"="+strconv.Itoa(fd), ipc.EnvSerialization+"="+mode)
}

// Send sends msg to the child over the IPC channel (Node's
// subprocess.send): a value the channel's codec encodes (for "json",
// anything encoding/json marshals, or a json.RawMessage). It blocks while
// the channel is full. A closed channel, or a child without one, gives an
// *Error with code ERR_IPC_CHANNEL_CLOSED.
func (c *Child) Send(msg any) error { return c.SendContext(context.Background(), msg) }

// SendContext is Send with a bound on its wait while the channel is full:
// when ctx is done first, it returns ctx's error and msg is not sent (see
// ipc.Channel.SendContext).
func (c *Child) SendContext(ctx context.Context, msg any) error {
	if c.ch == nil {
		return channelClosed(nil)
	}
	return sendError(c.ch.SendContext(ctx, msg))
}

// SendHandle sends msg with a listener, a connection or a file that the
// child receives as its own (Node's send(message, sendHandle)); see
// ipc.Channel.SendHandle.
func (c *Child) SendHandle(msg, handle any) error {
	if c.ch == nil {
		return channelClosed(nil)
	}
	return sendError(c.ch.SendHandle(msg, handle))
}

// Recv returns the next message from the child (Node's 'message' event).
// After the channel has closed it returns the messages that had arrived,
// then io.EOF; a child without a channel gives io.EOF at once.
func (c *Child) Recv(ctx context.Context) (ipc.Message, error) {
	if c.ch == nil {
		return ipc.Message{}, io.EOF
	}
	return c.ch.Recv(ctx)
}

// Disconnect closes the IPC channel (Node's subprocess.disconnect()); the
// child sees EOF, and a Node child its 'disconnect' event. A second call
// gives an *Error with code ERR_IPC_DISCONNECTED.
func (c *Child) Disconnect() error {
	if c.ch == nil || !c.ch.Connected() {
		return &Error{Code: CodeDisconnected, ExitCode: -1, msg: "IPC channel is already disconnected"}
	}
	c.ch.Close()
	return nil
}

// Disconnected is closed when the IPC channel has closed, from either
// side or because the child died (Node's 'disconnect'). It is nil (never
// ready) for a child without a channel.
func (c *Child) Disconnected() <-chan struct{} {
	if c.ch == nil {
		return nil
	}
	return c.ch.Disconnected()
}

// Connected reports whether the IPC channel is open (Node's connected).
func (c *Child) Connected() bool { return c.ch != nil && c.ch.Connected() }

// Channel returns the IPC channel, or nil.
func (c *Child) Channel() *ipc.Channel { return c.ch }

// sendError is the error of a send: ERR_IPC_CHANNEL_CLOSED for a closed
// channel, else err.
func sendError(err error) error {
	if errors.Is(err, ipc.ErrClosed) {
		return channelClosed(err)
	}
	return err
}

func channelClosed(err error) *Error {
	return &Error{Code: CodeChannelClosed, ExitCode: -1, Err: err, msg: "Channel closed"}
}

// forkedEntry is the part of a Child forked into a Go entry point: the
// handoff through which the child claims its entry and reports its end.
type forkedEntry struct {
	entry string   // the entry point, or ""
	sock  *os.File // the parent's end of the entry's handoff, until the child is reaped
}

// offerEntry prepares attr so that the child can claim the entry called
// name (ForkEntry sends the name once the child runs), and keeps the
// parent's end of the handoff for the child's report.
func (f *forkedEntry) offer(name string, attr *os.ProcAttr, st *stdioSetup) *Error {
	sock, child, err := reexec.Offer(reexec.Entry, attr)
	if err != nil {
		return sysError("socketpair", "", err)
	}
	st.childOwned = append(st.childOwned, child)
	st.closers = append(st.closers, sock)
	f.entry, f.sock = name, sock
	return nil
}

// sendOrders tells the child the name of its entry, once it runs; a
// child gone before it read the name is seen in its report.
func (f *forkedEntry) sendOrders() {
	if f.sock != nil {
		handoff.SendOrders(f.sock, f.entry)
	}
}

// report reads the report of a forked entry that has been reaped and
// closes its socket; the zero report for a child of no entry.
func (f *forkedEntry) report() entryReport {
	if f.sock == nil {
		return entryReport{}
	}
	defer f.sock.Close()
	r, _ := parseEntryReport(handoff.ReadHeld(f.sock, len("cre")+maxEntryMessage+1))
	return r
}

// notRun reports whether a forked entry never ran because the child ran
// main instead, by its report r: it claimed its handoff and RunEntry did
// not follow.
func (f *forkedEntry) notRun(r entryReport) bool {
	return f.entry != "" && r.stage == entryClaimed
}

// entryNotRunMessage is the message of an entry whose child ran main.
func entryNotRunMessage(name string) string {
	return "entry " + quote(name) + " never ran: the forked process ran main instead; " + runEntryAdvice
}

// explain completes e, the error of a child that failed, with what the
// report r of its entry says: the entry's own error when it returned one.
// A child of no entry keeps e as it is.
func (f *forkedEntry) explain(e *Error, r entryReport) {
	switch {
	case f.entry == "":
	case r.stage == entryFailed:
		ee := &EntryError{Name: f.entry, Message: r.message}
		e.Err, e.msg = ee, ee.Error()
	default:
		e.msg = "entry " + quote(f.entry) + " failed: " + exitDescription(e.ExitCode, e.Signal, e.TimedOut)
	}
}
