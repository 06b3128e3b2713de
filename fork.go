package childproc

import (
	"context"
	"errors"
	"io"
	"strconv"
	"strings"

	"github.com/childproc/childproc/internal/envlist"
	"github.com/childproc/childproc/internal/fdio"
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

// setupIPC makes the channel at fd i: a socketpair whose parent end
// becomes an ipc.Channel, whose child end is fd i, named to the child by
// NODE_CHANNEL_FD.
func (c *Child) setupIPC(st *stdioSetup, i int) *Error {
	if _, ok := ipc.LookupCodec(c.set.Serialization); !ok {
		return argError(CodeInvalidArgValue, "The serialization "+quote(c.set.Serialization)+" has no codec; registered: "+strings.Join(ipc.Codecs(), ", "))
	}
	parent, child, err := fdio.SocketPair()
	if err != nil {
		return sysError("socketpair", "", err)
	}
	var o ipc.Options
	if c.set.Channel != nil {
		o = *c.set.Channel
	}
	o.Serialization = c.set.Serialization
	o.PeerDone = c.exited // then Wait sees the channel end though nobody receives
	ch, err := ipc.NewFile(parent, &o)
	if err != nil {
		child.Close()
		return sysError("socketpair", "", err)
	}
	st.files[i] = child
	st.childOwned = append(st.childOwned, child)
	st.closers = append(st.closers, ch)
	c.ch = ch
	st.ipcFd = i
	return nil
}

// ipcEnv returns the child's environment with the channel at fd set
// (any channel it inherited is dropped).
func (c *Child) ipcEnv(env []string, fd int) []string {
	mode := c.set.Serialization
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
