//go:build unix

package ipc_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"syscall"
	"testing"
	"time"

	"github.com/childproc/childproc/ipc"
)

// FuzzDecode feeds arbitrary bytes from a peer to a Channel. Whatever the
// bytes, the Channel must not panic or hang; every message it delivers is
// one valid JSON value and never a protocol (NODE_) message; it ends with
// io.EOF or a *ProtocolError.
//
//	go test -run='^$' -fuzz=FuzzDecode -fuzztime=5m ./ipc/
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		"{\"a\":1}\n", "\"s\"\r\n", "1\n2\n3\n", "\n", "{\n", "[1,2", "null\n",
		"\"\\ud800\"\n", "\"\u2028\"\n", "\"\xff\"\n", "{\"cmd\":\"NODE_X\"}\n",
		"{\"cmd\":\"NODE_HANDLE\",\"type\":\"net.Socket\",\"msg\":1}\n",
		"{\"cmd\":\"NODE_HANDLE_ACK\"}\n", "{\"cmd\":\"NODE_\"}\n", "1 2\n",
		"{\"CMD\":\"NODE_HANDLE\"}\n", "{\"cmd\":\"NODE_HANDLE\",\"cmd\":1}\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		receiveAll(t, data, &ipc.Options{MaxMessageSize: 4096}, func(m ipc.Message) {
			if !json.Valid(m.Bytes()) {
				t.Fatalf("delivered invalid JSON %q", m.Bytes())
			}
			if _, _, _, internal := ipc.JSON.Internal(m.Bytes()); internal {
				t.Fatalf("delivered a protocol message %q", m.Bytes())
			}
		})
	})
}

// receiveAll writes data to a channel made with opts, as its peer, and
// receives until the channel ends, which must be by EOF or a
// *ProtocolError; check sees each message delivered.
func receiveAll(t *testing.T, data []byte, opts *ipc.Options, check func(ipc.Message)) {
	ours, theirs := socketPair(t)
	ch, err := ipc.NewFile(ours, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	go func() {
		theirs.Write(data)
		syscall.Shutdown(int(theirs.Fd()), syscall.SHUT_WR)
		// Answers (NACKs) are read and dropped until the channel closes.
		io.Copy(io.Discard, theirs)
		theirs.Close()
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		m, err := ch.Recv(ctx)
		if err != nil {
			var pe *ipc.ProtocolError
			if err != io.EOF && !errors.As(err, &pe) {
				t.Fatalf("Recv ended with %v", err)
			}
			return
		}
		check(m)
	}
}
