//go:build unix

package ipc_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/childproc/childproc/ipc"
)

func atkVarint(n uint64) []byte { return binary.AppendUvarint(nil, n) }

func atkPayload(parts ...[]byte) []byte {
	b := []byte{0xff, 0x0f}
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// atkDecode decodes p into v with a timeout, recovering panics, and
// reports the bytes allocated.
func atkDecode(t *testing.T, p []byte, v any) (alloc uint64, err error) {
	t.Helper()
	return atkDecodeWithin(t, 10*time.Second, p, v)
}

func atkDecodeWithin(t *testing.T, limit time.Duration, p []byte, v any) (alloc uint64, err error) {
	t.Helper()
	type res struct {
		err   error
		alloc uint64
	}
	done := make(chan res, 1)
	go func() {
		var r res
		defer func() {
			if x := recover(); x != nil {
				r.err = fmt.Errorf("PANIC: %v", x)
			}
			done <- r
		}()
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		r.err = ipc.Advanced.Unmarshal(p, v)
		runtime.ReadMemStats(&m1)
		r.alloc = m1.TotalAlloc - m0.TotalAlloc
		_ = ipc.Advanced.Valid(p)
		ipc.Advanced.Internal(p)
	}()
	select {
	case r := <-done:
		return r.alloc, r.err
	case <-time.After(limit):
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		t.Fatalf("HANG decoding % x into %T: after %v heap is %d MiB and growing", p, v, limit, m.HeapAlloc>>20)
		return 0, nil
	}
}

type atkCase struct {
	name string
	p    []byte
	ok   bool // may decode successfully
}

func atkHostile() []atkCase {
	big := atkVarint(1<<32 - 1)
	return []atkCase{
		{"dense-array-huge-count", atkPayload([]byte{'A'}, big), false},
		{"dense-array-1e6-count-then-end", atkPayload([]byte{'A'}, atkVarint(1e6), []byte{'$', 0}, atkVarint(1e6)), false},
		{"sparse-array-huge-length-no-elems", atkPayload([]byte{'a'}, big, []byte{'@', 0}, big), true},
		{"sparse-array-huge-length-one-elem", atkPayload([]byte{'a'}, big, []byte{'I', 0x7e, 'I', 2, '@', 1}, big), true},
		{"one-byte-string-huge-len", atkPayload([]byte{'"'}, big, []byte("abc")), false},
		{"two-byte-string-huge-len", atkPayload([]byte{'c'}, big, []byte("abcd")), false},
		{"two-byte-string-odd-len", atkPayload([]byte{'c', 3, 'A', 0, 'B'}), false},
		{"two-byte-string-odd-len-1", atkPayload([]byte{'c', 1, 'A'}), false},
		{"object-never-ends", atkPayload([]byte{'o', '"', 1, 'a', 'I', 2}), false},
		{"object-count-mismatch", atkPayload([]byte{'o', '"', 1, 'a', 'I', 2, '{', 5}), false},
		{"object-huge-count", atkPayload([]byte{'o', '{'}, big), false},
		{"map-huge-count", atkPayload([]byte{';', ':'}, big), false},
		{"map-odd-count", atkPayload([]byte{';', 'I', 2, ':', 1}), false},
		{"set-huge-count", atkPayload([]byte{'\'', ','}, big), false},
		{"backref-undefined-top", atkPayload([]byte{'^', 0}), false},
		{"backref-future-id", atkPayload([]byte{'A', 1, '^', 5, '$', 0, 1}), false},
		{"backref-huge-id", atkPayload([]byte{'A', 1, '^'}, big, []byte{'$', 0, 1}), false},
		{"backref-self-object", atkPayload([]byte{'o', '"', 4, 's', 'e', 'l', 'f', '^', 0, '{', 1}), true},
		{"backref-self-array", atkPayload([]byte{'A', 1, '^', 0, '$', 0, 1}), true},
		{"backref-self-map-key", atkPayload([]byte{';', '^', 0, '^', 0, ':', 2}), true},
		{"backref-self-set", atkPayload([]byte{'\'', '^', 0, ',', 1}), true},
		{"varint-11-bytes", atkPayload([]byte{'I', 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}), true}, // V8 reads this too (lenient varint / trailing bytes ignored)
		{"varint-10-bytes-len", atkPayload([]byte{'"', 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}), false},
		{"varint-unterminated", atkPayload([]byte{'I', 0xff, 0xff}), false},
		{"int32-varint-overflow", atkPayload([]byte{'I', 0xff, 0xff, 0xff, 0xff, 0x7f}), true},   // V8 reads this too (lenient varint / trailing bytes ignored)
		{"bigint-huge-digits", atkPayload([]byte{'Z'}, atkVarint(1<<40), []byte{1, 2, 3}), true}, // V8 reads this too (lenient varint / trailing bytes ignored)
		{"bigint-max-varint-digits", atkPayload([]byte{'Z'}, atkVarint(1<<63-1), []byte{1}), false},
		{"bigint-odd-bytes", atkPayload([]byte{'Z', 2 * 3, 1, 2, 3}), true}, // V8 reads this too (lenient varint / trailing bytes ignored)
		{"bigint-zero-len", atkPayload([]byte{'Z', 0}), true},
		{"int16array-odd-bytes", atkPayload([]byte{0x5c, 0, 3, 3, 1, 2, 3}), false},
		{"float64array-7-bytes", atkPayload([]byte{0x5c, 0, 8, 7, 1, 2, 3, 4, 5, 6, 7}), false},
		{"typedarray-huge-len", atkPayload([]byte{0x5c, 0, 3}, big, []byte{1, 2}), false},
		{"typedarray-bad-type", atkPayload([]byte{0x5c, 0, 0x7f, 2, 1, 2}), false},
		{"arraybuffer-huge-len", atkPayload([]byte{'B'}, big, []byte{1}), false},
		{"view-beyond-buffer", atkPayload([]byte{'B', 4, 1, 2, 3, 4, 'V', 'w', 2, 8, 0}), false},
		{"view-odd-int16", atkPayload([]byte{'B', 4, 1, 2, 3, 4, 'V', 'w', 0, 3, 0}), false},
		{"view-huge-offset", atkPayload([]byte{'B', 4, 1, 2, 3, 4, 'V', 'b'}, big, big, []byte{0}), false},
		{"unknown-tag", atkPayload([]byte{0x01}), false},
		{"empty-after-header", atkPayload(), false},
		{"no-header", []byte{'I', 2}, false},
		{"bad-version", []byte{0xff, 0x7f, 'I', 2}, false},
		{"trailing-garbage", atkPayload([]byte{'I', 2, 'I', 2}), true}, // V8 reads this too (lenient varint / trailing bytes ignored)
		{"empty", nil, false},
		{"regexp-huge-len", atkPayload([]byte{'R', '"'}, big), false},
		{"date-short", atkPayload([]byte{'D', 1, 2}), false},
		{"double-short", atkPayload([]byte{'N', 1, 2}), false},
		{"padding-only", atkPayload([]byte{0, 0, 0, 0}), false},
		{"error-huge-message", atkPayload([]byte{'r', 'm', '"'}, big), false},
		{"error-self-cause", atkPayload([]byte{'r', 'c', '^', 0, '.'}), true},
	}
}

func TestAttackHostileFrames(t *testing.T) {
	for _, c := range atkHostile() {
		t.Run(c.name, func(t *testing.T) {
			var v any
			alloc, err := atkDecode(t, c.p, &v)
			t.Logf("% x -> v=%T err=%v alloc=%d", c.p, v, err, alloc)
			if err != nil && strings.HasPrefix(err.Error(), "PANIC") {
				t.Fatalf("panic: %v", err)
			}
			if err == nil && !c.ok {
				t.Errorf("hostile frame accepted: v=%T", v)
			}
			if alloc > 1<<20 {
				t.Errorf("a %d-byte frame allocated %d bytes", len(c.p), alloc)
			}
		})
	}
}

// Same hostile frames, decoded into typed targets.
func TestAttackHostileTyped(t *testing.T) {
	targets := []func() any{
		func() any { return new([]any) },
		func() any { return new([]int) },
		func() any { return new(map[string]any) },
		func() any { return new(struct{ Self any }) },
		func() any { return new([4]int) },
		func() any { return new(string) },
		func() any { return new(ipc.SparseArray) },
		func() any { return new([]int16) },
	}
	for _, c := range atkHostile() {
		for i, tg := range targets {
			v := tg()
			t.Run(fmt.Sprintf("%s/%T", c.name, v), func(t *testing.T) {
				alloc, err := atkDecode(t, c.p, v)
				if err != nil && strings.HasPrefix(err.Error(), "PANIC") {
					t.Fatalf("target %d: %v", i, err)
				}
				if alloc > 1<<20 {
					t.Errorf("a %d-byte frame allocated %d bytes into %T (err=%v)", len(c.p), alloc, v, err)
				}
			})
		}
	}
}

func atkNest(depth int, open, close []byte) []byte {
	b := []byte{0xff, 0x0f}
	for i := 0; i < depth; i++ {
		b = append(b, open...)
	}
	b = append(b, '0')
	for i := 0; i < depth; i++ {
		b = append(b, close...)
	}
	return b
}

func TestAttackDeepNesting(t *testing.T) {
	kinds := map[string][2][]byte{
		"array":  {{'A', 1}, {'$', 0, 1}},
		"object": {{'o', '"', 1, 'a'}, {'{', 1}},
		"map":    {{';', '0'}, {':', 2}},
		"set":    {{'\''}, {',', 1}},
	}
	for name, k := range kinds {
		for _, d := range []int{9998, 9999, 10000, 10001, 10002, 200000} {
			t.Run(fmt.Sprintf("%s-%d", name, d), func(t *testing.T) {
				p := atkNest(d, k[0], k[1])
				var v any
				alloc, err := atkDecode(t, p, &v)
				t.Logf("depth %d: err=%v alloc=%d len=%d", d, err, alloc, len(p))
				if err != nil && strings.HasPrefix(err.Error(), "PANIC") {
					t.Fatal(err)
				}
				if d > 10001 && err == nil {
					t.Errorf("nesting %d accepted", d)
				}
				if d <= 9998 && err != nil {
					t.Errorf("nesting %d refused: %v", d, err)
				}
				// Also the unterminated form: only opens.
				var w any
				_, err2 := atkDecode(t, p[:2+d*len(k[0])], &w)
				if err2 == nil {
					t.Errorf("unterminated nesting accepted")
				}
				// Typed target
				var s []any
				if _, err3 := atkDecode(t, p, &s); err3 != nil && strings.HasPrefix(err3.Error(), "PANIC") {
					t.Fatal(err3)
				}
			})
		}
	}
}

func TestAttackSplitter(t *testing.T) {
	sp := ipc.Advanced.NewSplitter()
	for _, n := range []uint32{0, 1, 1 << 31, 1<<32 - 1} {
		sp = ipc.Advanced.NewSplitter()
		buf := binary.BigEndian.AppendUint32(nil, n)
		buf = append(buf, 0xff, 0x0f, '0')
		func() {
			defer func() {
				if x := recover(); x != nil {
					t.Errorf("len %d: panic %v", n, x)
				}
			}()
			p, k, err := sp.Split(buf)
			t.Logf("announce %d: payload=% x n=%d err=%v", n, p, k, err)
		}()
	}
	// Partial header
	sp = ipc.Advanced.NewSplitter()
	if _, k, err := sp.Split([]byte{0, 0}); k != 0 || err != nil {
		t.Errorf("short header: n=%d err=%v", k, err)
	}
}

func TestAttackMismatchedStruct(t *testing.T) {
	type S struct {
		A int
		B []string
		C map[string]int
		D [2]int
		E *int
		F uint8
		G any
	}
	enc := func(v any) []byte {
		b, err := ipc.Advanced.AppendFrame(nil, v)
		if err != nil {
			t.Fatal(err)
		}
		return b[4:]
	}
	cases := map[string]any{
		"string-into-int": map[string]any{"A": "x"},
		"float-into-int":  map[string]any{"A": 1.5},
		"huge-into-uint8": map[string]any{"F": 300},
		"neg-into-uint8":  map[string]any{"F": -1},
		"map-into-slice":  map[string]any{"B": map[string]any{"x": 1}},
		"nums-into-strs":  map[string]any{"B": []any{1, 2}},
		"too-long-array":  map[string]any{"D": []any{1, 2, 3, 4}},
		"map-objkeys":     map[string]any{"C": &ipc.Map{}},
		"bigint-into-ptr": map[string]any{"E": []any{1}},
		"top-array":       []any{1, 2},
		"top-string":      "x",
		"typed-into-int":  map[string]any{"A": []int16{1}},
		"nan-into-int":    map[string]any{"A": nanv()},
	}
	for name, v := range cases {
		t.Run(name, func(t *testing.T) {
			var s S
			_, err := atkDecode(t, enc(v), &s)
			t.Logf("err=%v s=%+v", err, s)
			if err != nil && strings.HasPrefix(err.Error(), "PANIC") {
				t.Fatal(err)
			}
		})
	}
	var nilp *S
	_, err := atkDecode(t, enc(map[string]any{}), nilp)
	t.Logf("nil ptr target: %v", err)
	_, err = atkDecode(t, enc(map[string]any{}), S{})
	t.Logf("non-ptr target: %v", err)
	if err == nil {
		t.Errorf("non-pointer target accepted")
	}
}

func nanv() float64 { var z float64; return z / z }

func TestAttackEncodeUnencodable(t *testing.T) {
	cyc := map[string]any{}
	cyc["self"] = cyc
	mm := map[string]map[string]any{"a": {}}
	mm["a"]["back"] = mm
	type P struct{ Next *P }
	p := &P{}
	p.Next = p
	sl := make([]any, 1)
	sl[0] = sl
	je := &ipc.JSError{}
	for name, tc := range map[string]struct {
		v      any
		wantOK bool
	}{
		"chan":              {make(chan int), false},
		"func":              {func() {}, false},
		"complex":           {complex(1, 2), false},
		"chan-in-map":       {map[string]any{"c": make(chan int)}, false},
		"func-in-slice":     {[]any{1, func() {}}, false},
		"cyclic-map":        {cyc, true},
		"cyclic-mapmap":     {mm, true},
		"cyclic-ptr":        {p, true},
		"cyclic-slice":      {sl, true},
		"unsafe-ptr-struct": {struct{ C chan int }{}, false},
		"jserror":           {je, true},
	} {
		t.Run(name, func(t *testing.T) {
			done := make(chan struct{})
			var b []byte
			var err error
			go func() {
				defer func() {
					if x := recover(); x != nil {
						err = fmt.Errorf("PANIC: %v", x)
					}
					close(done)
				}()
				b, err = ipc.Advanced.AppendFrame(nil, tc.v)
			}()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("HANG encoding")
			}
			t.Logf("% .60x err=%v", b, err)
			if err != nil && strings.HasPrefix(err.Error(), "PANIC") {
				t.Fatal(err)
			}
			if !tc.wantOK && (err == nil || !errors.Is(err, ipc.ErrNotSerializable)) {
				t.Errorf("want ErrNotSerializable, got %v", err)
			}
			if tc.wantOK {
				if err != nil {
					t.Errorf("cyclic value refused: %v", err)
					return
				}
				var back any
				_, derr := atkDecode(t, b[4:], &back)
				if derr != nil {
					t.Errorf("own encoding does not decode: %v", derr)
				}
			}
		})
	}
}

// A peer announces a big frame and then sends it slowly, or never.
func TestAttackSlowPeer(t *testing.T) {
	ours, theirs := socketPair(t)
	defer theirs.Close()
	ch, err := ipc.NewFile(ours, &ipc.Options{Serialization: "advanced"})
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	var m0 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	hdr := binary.BigEndian.AppendUint32(nil, 60<<20)
	theirs.Write(append(hdr, 0xff, 0x0f, '"'))
	go func() {
		for i := 0; i < 20; i++ {
			theirs.Write([]byte("x"))
			time.Sleep(50 * time.Millisecond)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = ch.Recv(ctx)
	t.Logf("Recv after %v: %v", time.Since(start), err)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("want deadline, got %v", err)
	}
	var m1 runtime.MemStats
	runtime.ReadMemStats(&m1)
	t.Logf("heap in use grew %d, total alloc %d, sys %d", int64(m1.HeapInuse)-int64(m0.HeapInuse), m1.TotalAlloc-m0.TotalAlloc, int64(m1.Sys)-int64(m0.Sys))
	if m1.TotalAlloc-m0.TotalAlloc > 8<<20 {
		t.Errorf("slow 60 MiB announcement allocated %d bytes of heap", m1.TotalAlloc-m0.TotalAlloc)
	}
	// Close must return promptly while the frame is half read.
	cs := time.Now()
	ch.Close()
	if d := time.Since(cs); d > 3*time.Second {
		t.Errorf("Close took %v", d)
	}
}

func TestAttackAnnounceThenEOF(t *testing.T) {
	ours, theirs := socketPair(t)
	ch, err := ipc.NewFile(ours, &ipc.Options{Serialization: "advanced"})
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	hdr := binary.BigEndian.AppendUint32(nil, 1000)
	theirs.Write(append(hdr, 0xff, 0x0f))
	theirs.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = ch.Recv(ctx)
	var pe *ipc.ProtocolError
	t.Logf("err=%v", err)
	if !errors.As(err, &pe) {
		t.Errorf("want ProtocolError (truncated), got %v", err)
	}
}

func TestAttackTooLargeAnnounce(t *testing.T) {
	ours, theirs := socketPair(t)
	defer theirs.Close()
	ch, err := ipc.NewFile(ours, &ipc.Options{Serialization: "advanced", MaxMessageSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	theirs.Write(binary.BigEndian.AppendUint32(nil, 0xffffffff))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = ch.Recv(ctx)
	t.Logf("err=%v", err)
	if !errors.Is(err, ipc.ErrTooLarge) {
		t.Errorf("want ErrTooLarge, got %v", err)
	}
}

// Hostile frames via a real channel: must end with ProtocolError, not hang.
func TestAttackHostileOverChannel(t *testing.T) {
	for _, c := range atkHostile() {
		if c.ok {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			ours, theirs := socketPair(t)
			defer theirs.Close()
			ch, err := ipc.NewFile(ours, &ipc.Options{Serialization: "advanced"})
			if err != nil {
				t.Fatal(err)
			}
			defer ch.Close()
			theirs.Write(append(binary.BigEndian.AppendUint32(nil, uint32(len(c.p))), c.p...))
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			m, err := ch.Recv(ctx)
			if err == nil {
				var v any
				derr := m.Decode(&v)
				t.Errorf("hostile frame delivered: %.100v decode err=%v", fmt.Sprint(v), derr)
				return
			}
			var pe *ipc.ProtocolError
			if !errors.As(err, &pe) {
				t.Errorf("want ProtocolError, got %v", err)
			}
		})
	}
}

// A frame of length 0 (no V8 header at all) must end the channel.
func TestAttackZeroLengthFrame(t *testing.T) {
	ours, theirs := socketPair(t)
	defer theirs.Close()
	ch, err := ipc.NewFile(ours, &ipc.Options{Serialization: "advanced"})
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	theirs.Write([]byte{0, 0, 0, 0})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	m, err := ch.Recv(ctx)
	t.Logf("msg=% x err=%v", m.Bytes(), err)
	var pe *ipc.ProtocolError
	if !errors.As(err, &pe) {
		t.Errorf("want ProtocolError, got %v", err)
	}
}

type atkRec map[string]atkRec
type atkRecSlice []atkRecSlice
type atkRecPtr struct {
	Self *atkRecPtr `json:"self"`
}
type atkRecIface struct {
	Self any `json:"self"`
}
type atkNode struct {
	Self *atkNode `json:"self"`
	Kids []atkNode
}

// Runs last (source order): a runaway decode keeps its goroutine until the
// test binary exits.
func TestAttackCyclicIntoTyped(t *testing.T) {
	self := atkPayload([]byte{'o', '"', 4, 's', 'e', 'l', 'f', '^', 0, '{', 1})
	selfArr := atkPayload([]byte{'A', 1, '^', 0, '$', 0, 1})
	for name, tc := range map[string]struct {
		p []byte
		v any
	}{
		"obj-into-recursive-map":    {self, new(atkRec)},
		"arr-into-recursive-slice":  {selfArr, new(atkRecSlice)},
		"obj-into-recursive-ptr":    {self, new(atkRecPtr)},
		"obj-into-iface-field":      {self, new(atkRecIface)},
		"obj-into-map-of-recursive": {self, new(map[string]atkRec)},
		"arr-into-json-raw-slice":   {selfArr, new([]rawJSON)},
		"obj-into-recursive-struct": {self, new(atkNode)},
		"arr-into-nested-slices":    {selfArr, new([][][][]any)},
		"obj-into-map-string-any":   {self, new(map[string]any)},
		"obj-into-json-raw":         {self, new(struct{ Self rawJSON })},
	} {
		t.Run(name, func(t *testing.T) {
			alloc, err := atkDecodeWithin(t, 2*time.Second, tc.p, tc.v)
			t.Logf("err=%v alloc=%d", err, alloc)
			if err != nil && strings.HasPrefix(err.Error(), "PANIC") {
				t.Fatal(err)
			}
			if alloc > 1<<20 {
				t.Errorf("a %d-byte frame allocated %d bytes into %T", len(tc.p), alloc, tc.v)
			}
		})
	}
}

type rawJSON []byte

func (r *rawJSON) UnmarshalJSON(b []byte) error { *r = append((*r)[:0], b...); return nil }
