//go:build unix

package ipc_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/childproc/childproc/ipc"
)

// advancedSeeds are payloads Node writes (from the cases both sides
// test), and a few broken ones.
func advancedSeeds(f *testing.F) [][]byte {
	seeds := [][]byte{[]byte("\xff\x0f"), []byte("\xff\x0fo\"\x03cmd\"\x0bNODE_HANDLE\"\x04type\"\x0anet.Socket\"\x03msgo{\x00{\x03"),
		[]byte("\xff\x0fA\x02^\x00_$\x00\x02"), []byte("\xff\x0fr\x54m\"\x01xc^\x00.")}
	for name, c := range advancedCases {
		if name == "hugeString" || name == "hugeBuffer" || name == "hugeTwoByte" {
			continue
		}
		if frame, err := ipc.Advanced.AppendFrame(nil, c.value()); err == nil {
			seeds = append(seeds, frame[4:])
		}
	}
	return seeds
}

// FuzzAdvancedUnmarshal decodes arbitrary payloads: never a panic; a
// payload that decodes encodes again (unless it holds what Go refuses
// to send), and what that encodes to decodes to the same bytes again.
//
//	go test -run='^$' -fuzz=FuzzAdvancedUnmarshal -fuzztime=5m ./ipc/
func FuzzAdvancedUnmarshal(f *testing.F) {
	for _, s := range advancedSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var v any
		if err := ipc.Advanced.Unmarshal(data, &v); err != nil {
			if ipc.Advanced.Valid(data) {
				t.Fatalf("Valid but Unmarshal fails: %v", err)
			}
			return
		}
		if !ipc.Advanced.Valid(data) {
			t.Fatal("Unmarshal works but not Valid")
		}
		frame, err := ipc.Advanced.AppendFrame(nil, v)
		if err != nil {
			if !errors.Is(err, ipc.ErrNotSerializable) {
				t.Fatalf("encoding a decoded value: %v", err)
			}
			return
		}
		var again any
		if err := ipc.Advanced.Unmarshal(frame[4:], &again); err != nil {
			t.Fatalf("re-encoded %x does not decode: %v", frame, err)
		}
		frame2, err := ipc.Advanced.AppendFrame(nil, again)
		if err != nil || !bytes.Equal(frame, frame2) {
			t.Fatalf("round trip not stable: %x then %x (%v)", frame, frame2, err)
		}
		var s struct {
			A, B any
			C    []int
		}
		ipc.Advanced.Unmarshal(data, &s) // into other types: an error at most
		var m map[string]string
		ipc.Advanced.Unmarshal(data, &m)
	})
}

// FuzzAdvancedChannel feeds arbitrary bytes to an advanced channel:
// no panic, no hang; every message delivered is valid and no protocol
// message; it ends with io.EOF or a *ProtocolError.
//
//	go test -run='^$' -fuzz=FuzzAdvancedChannel -fuzztime=5m ./ipc/
func FuzzAdvancedChannel(f *testing.F) {
	for _, s := range advancedSeeds(f) {
		f.Add([]byte(frameOf(string(s))))
		f.Add([]byte(frameOf(string(s)) + frameOf(string(s))[:len(s)/2]))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		receiveAll(t, data, &ipc.Options{Serialization: "advanced", MaxMessageSize: 4096}, func(m ipc.Message) {
			if m.File() != nil {
				m.File().Close()
			}
			if !ipc.Advanced.Valid(m.Bytes()) {
				t.Fatalf("delivered an invalid message %x", m.Bytes())
			}
			if _, _, _, internal := ipc.Advanced.Internal(m.Bytes()); internal && m.File() == nil {
				t.Fatalf("delivered a protocol message %x", m.Bytes())
			}
		})
	})
}
