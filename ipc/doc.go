// Package ipc is the message channel between a parent and a child
// process, speaking Node.js's child_process IPC wire protocol byte for
// byte: a Go parent can talk to a Node child that uses process.send and
// process.on('message'), and a Node parent can start a Go program that
// uses Parent.
//
// # The wire
//
// The channel is an AF_UNIX stream socket, one end in each process; the
// child finds its end at the descriptor named by NODE_CHANNEL_FD. Node's
// default serialization, "json", frames each message as its JSON text on
// one line ending in '\n' (see JSON); "advanced" frames V8's serialization
// of each message after its length (see Advanced, and its mapping of
// JavaScript types to Go's); other serializations plug in as a Codec
// (RegisterCodec). Send, Recv, Message.Decode and handle passing work the
// same way in every serialization.
//
// Messages whose "cmd" is a string longer than 5 that starts with "NODE_"
// are the protocol's own and never reach Recv; Channel answers those of
// handle passing (NODE_HANDLE with NODE_HANDLE_ACK or NODE_HANDLE_NACK)
// and ignores the others (Node's cluster and socket-list messages).
// Handles (sockets, listeners, pipes) travel with a message as SCM_RIGHTS:
// see Channel.SendHandle and Message.File.
//
// Closing a channel (Node's disconnect()) is nothing but closing the
// socket: the peer reads EOF.
//
// # Back-pressure and limits
//
// Send appends the message to a write buffer and returns; it blocks while
// HighWater bytes are waiting, so a sender can run ahead of its peer only
// by that much plus the kernel's socket buffers. A Send that finds no
// write in progress writes from its own goroutine, along with what other
// Sends append meanwhile; a sender streaming frames back to back leaves
// them to a writer goroutine that sends what piles up in few writes, and
// SendBatched always does, for senders that have other messages in
// flight and need no prompt write. A
// message sent just after a Recv that left more messages waiting (an
// answer, likely followed by the answers to those) is held, and the
// answers go out in one write when the next Recv finds nothing waiting,
// when 64 KiB are held, before any other frame, at Close, or after 500 µs
// whatever happens. Recv reads the socket
// itself when no message is waiting; when no Recv is waiting, a
// background reader takes over, so that handle messages are answered and
// the peer's going is seen, until QueueLen messages or QueueBytes bytes
// wait for Recv. Then reading stops, the socket buffers fill and the
// peer's Send blocks. Two cases read on, up to four times QueueBytes: a
// SendHandle waiting for its acknowledgement, and a peer known to have
// ended (Options.PeerDone), whose end must be seen.
//
// Reading never waits for the peer to read: the answers to handle
// messages (NODE_HANDLE_ACK, NODE_HANDLE_NACK) are queued past HighWater.
// A Node peer sends one handle message at a time and waits for its
// answer, so a peer that goes on sending them while 32768 answers wait
// unread breaks the protocol, and the channel ends with a *ProtocolError
// (ErrBadHandle). Recv returns when its context ends, and Close when the
// frames sent before it are written or a few seconds have passed, whatever
// the peer does.
//
// A message longer than MaxMessageSize (64 MiB unless set), or bytes that
// are not a message (invalid JSON, an empty line, a value V8 would not
// read, a frame cut short by EOF), end the channel: Recv returns the messages that arrived before
// them, then a *ProtocolError, and the socket is closed. A Node receiver
// would crash on the same bytes.
//
// A message costs about its own size in memory while it is read and
// once it waits for Recv. A frame longer than 1 MiB is read into memory
// mapped outside Go's heap, which takes pages only as the bytes arrive
// and gives them back while the message is copied out, so that neither a
// growing buffer nor garbage waiting for a collection doubles it. A line
// longer than MaxMessageSize is refused as soon as one byte more than
// that has come, an advanced frame as soon as its length says so; the
// rest is never read, and what was read is given back.
//
// # Latency
//
// A Recv that follows a lone Send (a request waiting for its answer)
// first tries the socket again and again, yielding the processor to
// other threads (the peer's, perhaps) between tries, for up to
// Options.SpinWait (50 µs), and only then parks its goroutine in Go's
// network poller: waking a parked goroutine costs more than a prompt peer
// takes to answer. Only a lone message written on its own starts a spin;
// the answers to a batch of messages do not, nor does a SendBatched. The spinning stops by itself while
// answers take longer than that, and never happens when GOMAXPROCS is 1.
//
// # Platforms
//
// Channels work on Unix systems. On Windows, where Node uses named pipes,
// NewFile and Parent return an error, and handles cannot be passed.
package ipc
