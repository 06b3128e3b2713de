//go:build unix

package ipc_test

import (
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/childproc/childproc/ipc"
)

// frameOf frames a payload as Node does: its length, 4 bytes big-endian.
func frameOf(payload string) string {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(payload)))
	return string(n[:]) + payload
}

// Bad frames on an advanced channel: the messages before them arrive,
// then a *ProtocolError with the cause and the frame's offset; nothing
// leaks.
func TestAdvancedMalformedInput(t *testing.T) {
	defer goleak.VerifyNone(t)
	good := frameOf("\xff\x0f\"\x02ok")
	for _, c := range []struct {
		name  string
		bytes string
		cause error
	}{
		{"empty frame", frameOf(""), ipc.ErrMalformed},
		{"no header", frameOf("\"\x02ok"), ipc.ErrMalformed},
		{"future version", frameOf("\xff\x10\x30"), ipc.ErrMalformed},
		{"unknown tag", frameOf("\xff\x0f\x01"), ipc.ErrMalformed},
		{"string past the frame", frameOf("\xff\x0f\"\x09ok"), ipc.ErrMalformed},
		{"object count wrong", frameOf("\xff\x0fo\"\x01aI\x02{\x02"), ipc.ErrMalformed},
		{"array longer than the frame", frameOf("\xff\x0fA\xff\xff\xff\xff\x0f"), ipc.ErrMalformed},
		{"reference to nothing", frameOf("\xff\x0fo\"\x01a^\x05{\x01"), ipc.ErrMalformed},
		{"unknown view type", frameOf("\xff\x0f\\\x00\x0d\x00"), ipc.ErrMalformed},
		{"odd Int16Array", frameOf("\xff\x0f\\\x00\x03\x03abc"), ipc.ErrMalformed},
		{"bad regexp flags", frameOf("\xff\x0fR\"\x01x\x80\x08"), ipc.ErrMalformed},
		{"nested too deep", frameOf("\xff\x0f" + strings.Repeat("A\x01", 10001) + "0"), ipc.ErrMalformed},
		{"truncated frame", frameOf("\xff\x0f\"\x02ok")[:6], ipc.ErrTruncated},
		{"truncated length", "\x00\x00", ipc.ErrTruncated},
		{"oversized frame", "\x00\x10\x00\x01", ipc.ErrTooLarge},
	} {
		t.Run(c.name, func(t *testing.T) {
			ch, peer := rawPeer(t, &ipc.Options{Serialization: "advanced", MaxMessageSize: 1 << 20})
			if _, err := peer.Write([]byte(good + c.bytes)); err != nil {
				t.Fatal(err)
			}
			syscall.Shutdown(int(peer.Fd()), syscall.SHUT_WR)
			got, err := collect(t, ch)
			if len(got) != 1 || got[0] != "\xff\x0f\"\x02ok" {
				t.Fatalf("messages before the bad frame: %q", got)
			}
			var pe *ipc.ProtocolError
			if !errors.As(err, &pe) || !errors.Is(err, c.cause) || pe.Offset != int64(len(good)) {
				t.Fatalf("got %v (%#v), want a ProtocolError at %d caused by %v", err, pe, len(good), c.cause)
			}
			select {
			case <-ch.Disconnected():
			case <-time.After(10 * time.Second):
				t.Fatal("channel not closed")
			}
		})
	}
}

// A frame whose length prefix says more than MaxMessageSize is refused
// as soon as the prefix is read, not once that many bytes came.
func TestAdvancedOversizeRefusedAtOnce(t *testing.T) {
	ch, peer := rawPeer(t, &ipc.Options{Serialization: "advanced", MaxMessageSize: 1 << 20})
	peer.Write([]byte("\x00\x20\x00\x00\xff\x0f")) // 2 MiB announced; the peer keeps the socket open
	_, err := collect(t, ch)
	if !errors.Is(err, ipc.ErrTooLarge) {
		t.Fatalf("got %v, want ErrTooLarge before the bytes", err)
	}
}

// Values Go cannot send are an ErrNotSerializable error and nothing is
// written.
func TestAdvancedSendUnserializable(t *testing.T) {
	ch, peer := rawPeer(t, &ipc.Options{Serialization: "advanced"})
	e := &ipc.JSError{Message: "loop"}
	e.Cause = []any{e}
	for _, v := range []any{func() {}, make(chan int), complex(1, 2), map[complex128]int{1: 2},
		ipc.RegExp{Source: "x", Flags: "q"}, ipc.RegExp{Source: "x", Flags: "uv"}, ipc.RegExp{Source: "x", Flags: "gg"}, e, ipc.RawValue("\xff\x0f\x01"), []any{ipc.RawValue("\xff\x0f0")}} {
		if err := ch.Send(v); !errors.Is(err, ipc.ErrNotSerializable) {
			t.Errorf("Send(%T) = %v, want ErrNotSerializable", v, err)
		}
	}
	if err := ch.Send(ipc.RawValue("\xff\x0f\"\x04last")); err != nil {
		t.Fatal(err)
	}
	ch.Close()
	all, _ := io.ReadAll(peer)
	if string(all) != frameOf("\xff\x0f\"\x04last") {
		t.Fatalf("wrote %q", all)
	}
}
