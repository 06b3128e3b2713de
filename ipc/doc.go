// Package ipc is the message channel between a parent and a child
// process, speaking Node.js's child_process IPC wire protocol byte for
// byte: a Go parent can talk to a Node child that uses process.send and
// process.on('message'), and a Node parent can fork a Go program that
// uses Parent.
//
// The channel is an AF_UNIX stream socket. Node's "json" serialization
// frames each message as one line of JSON ending in '\n'; other
// serializations plug in as a Codec. Messages whose "cmd" starts with
// "NODE_" are the protocol's own (handle passing) and never reach Recv.
// Handles (open files, listeners, connections) travel with a message as
// SCM_RIGHTS, with Node's NODE_HANDLE / NODE_HANDLE_ACK protocol.
//
// A Channel reads in the background into a bounded queue: when the user
// does not keep up, reading stops, the kernel's socket buffers fill, and
// the sender's Send blocks. That is the back-pressure; there is no
// unbounded buffer on either side. A message larger than MaxMessageSize,
// or bytes that are not a message, end the channel with a *ProtocolError
// after the messages before them have been delivered.
package ipc
