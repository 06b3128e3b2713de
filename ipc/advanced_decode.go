package ipc

import (
	"encoding/binary"
	"math"
	"math/big"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// V8's serialization tags (src/objects/value-serializer.cc) that the
// Advanced codec reads or writes.
const (
	tagVersion      = 0xFF
	tagPadding      = 0x00
	tagVerifyCount  = '?'
	tagHole         = '-'
	tagUndefined    = '_'
	tagNull         = '0'
	tagTrue         = 'T'
	tagFalse        = 'F'
	tagInt32        = 'I'
	tagUint32       = 'U'
	tagDouble       = 'N'
	tagBigInt       = 'Z'
	tagUTF8         = 'S'
	tagOneByte      = '"'
	tagTwoByte      = 'c'
	tagRef          = '^'
	tagObject       = 'o'
	tagObjectEnd    = '{'
	tagSparse       = 'a'
	tagSparseEnd    = '@'
	tagDense        = 'A'
	tagDenseEnd     = '$'
	tagDate         = 'D'
	tagTrueObject   = 'y'
	tagFalseObject  = 'x'
	tagNumberObject = 'n'
	tagBigIntObject = 'z'
	tagStringObject = 's'
	tagRegExp       = 'R'
	tagMap          = ';'
	tagMapEnd       = ':'
	tagSet          = '\''
	tagSetEnd       = ','
	tagArrayBuffer  = 'B'
	tagResizableAB  = '~'
	tagView         = 'V'
	tagHostObject   = '\\'
	tagError        = 'r'
)

// The sub-tags of an Error.
const (
	errEvalError      = 'E'
	errRangeError     = 'R'
	errReferenceError = 'F'
	errSyntaxError    = 'S'
	errTypeError      = 'T'
	errURIError       = 'U'
	errMessage        = 'm'
	errCause          = 'c'
	errStack          = 's'
	errEnd            = '.'
)

// errorNames maps an Error's prototype sub-tag to its name, and back.
var errorNames = map[byte]string{
	errEvalError: "EvalError", errRangeError: "RangeError", errReferenceError: "ReferenceError",
	errSyntaxError: "SyntaxError", errTypeError: "TypeError", errURIError: "URIError",
}

// The child_process serializer's host objects: an ArrayBufferView
// (followed by Node's own view encoding), or another host object written
// as a plain object.
const (
	hostView  = 0
	hostOther = 1
)

// Node's ArrayBufferView type indexes (lib/v8.js arrayBufferViewTypes).
const (
	viewInt8 = iota
	viewUint8
	viewUint8Clamped
	viewInt16
	viewUint16
	viewInt32
	viewUint32
	viewFloat32
	viewFloat64
	viewDataView
	viewBuffer
	viewBigInt64
	viewBigUint64
	viewTypes // the number of them
)

// V8's ArrayBufferView sub-tags, for the 'V' form Node does not write
// but V8 reads.
var v8ViewTypes = map[byte]int{
	'b': viewInt8, 'B': viewUint8, 'C': viewUint8Clamped, 'w': viewInt16, 'W': viewUint16,
	'd': viewInt32, 'D': viewUint32, 'f': viewFloat32, 'F': viewFloat64, 'q': viewBigInt64,
	'Q': viewBigUint64, '?': viewDataView,
}

// viewElemSize is the element size of each view type.
var viewElemSize = [viewTypes]int{1, 1, 1, 2, 2, 4, 4, 4, 8, 1, 1, 8, 8}

// The oldest and newest format versions read: 13 gave host objects
// their tag, 15 is what Node 20 and later write.
const (
	minVersion    = 13
	latestVersion = 15
)

// maxDateMs is the largest time value a JavaScript Date holds.
const maxDateMs = 8.64e15

// A v8Error reports bytes that are not a value V8 would read.
type v8Error struct {
	off    int
	reason string
}

func (e *v8Error) Error() string {
	return "ipc: advanced message malformed at byte " + strconv.Itoa(e.off) + ": " + e.reason
}

// A decoder reads one serialized value.
type decoder struct {
	data    []byte
	pos     int
	version uint32
	objs    []any // the objects read so far, by id, for back-references
	depth   int
	refs    []int // where each back-reference tag is, when recording them
	record  bool
	// check: only check the value, building nothing of it (strings are
	// "", objects, arrays and views empty).
	check bool
	// Arrays sent in the sparse form that have no holes decode as []any.
	// One that refers to itself is read again, as a []any from the
	// start, so that its references are to the []any: selfRef holds the
	// ids of the sparse arrays referred to, denseAt the start of those
	// read again, redos how many were (at most maxRedos a message).
	selfRef map[int]bool
	denseAt map[int]bool
	redos   int
}

// maxRedos bounds the arrays read twice in one message (see decoder).
const maxRedos = 16

// placeholder stands for an object in the id table of a decoder that
// only checks (a reference to one, once decoding, needs the whole
// message decoded: see unmarshalAdvanced).
var placeholder any = directObject{}

func (d *decoder) fail(reason string) error { return &v8Error{off: d.pos, reason: reason} }

var errShort = "unexpected end of message"

// header reads the version header.
func (d *decoder) header() error {
	if len(d.data) == 0 || d.data[0] != tagVersion {
		return d.fail("no version header")
	}
	d.pos = 1
	v, err := d.varint32()
	if err != nil {
		return err
	}
	if v < minVersion || v > latestVersion {
		return d.fail("unsupported format version " + strconv.Itoa(int(v)))
	}
	d.version = v
	return nil
}

func (d *decoder) varint() (uint64, error) {
	var x uint64
	for shift := uint(0); ; shift += 7 {
		if d.pos >= len(d.data) {
			return 0, d.fail(errShort)
		}
		b := d.data[d.pos]
		d.pos++
		if shift < 64 {
			x |= uint64(b&0x7f) << shift
		}
		if b < 0x80 {
			return x, nil
		}
		if shift > 70 {
			return 0, d.fail("varint too long")
		}
	}
}

// varint32 reads a varint as V8 reads a uint32: higher bits are dropped.
func (d *decoder) varint32() (uint32, error) {
	x, err := d.varint()
	return uint32(x), err
}

func (d *decoder) raw(n uint64) ([]byte, error) {
	if n > uint64(len(d.data)-d.pos) {
		return nil, d.fail(errShort)
	}
	b := d.data[d.pos : d.pos+int(n)]
	d.pos += int(n)
	return b, nil
}

func (d *decoder) double() (float64, error) {
	b, err := d.raw(8)
	if err != nil {
		return 0, err
	}
	f := math.Float64frombits(binary.LittleEndian.Uint64(b))
	if math.IsNaN(f) {
		f = math.NaN()
	}
	return f, nil
}

// tag reads the next tag, past padding.
func (d *decoder) tag() (byte, error) {
	for d.pos < len(d.data) {
		t := d.data[d.pos]
		d.pos++
		if t != tagPadding {
			return t, nil
		}
	}
	return 0, d.fail(errShort)
}

// peek returns the next tag past padding without reading it.
func (d *decoder) peek() (byte, error) {
	for d.pos < len(d.data) && d.data[d.pos] == tagPadding {
		d.pos++
	}
	if d.pos >= len(d.data) {
		return 0, d.fail(errShort)
	}
	return d.data[d.pos], nil
}

// newID allocates the next object id; set fills it in.
func (d *decoder) newID() int {
	d.objs = append(d.objs, nil)
	return len(d.objs) - 1
}

// value reads one value, and the view that may follow an ArrayBuffer.
func (d *decoder) value() (any, error) {
	d.depth++
	defer func() { d.depth-- }()
	if d.depth > maxDepth {
		return nil, d.fail("nested too deeply")
	}
	v, err := d.valueInner()
	if err != nil {
		return nil, err
	}
	if ab, ok := v.(ArrayBuffer); ok && d.pos < len(d.data) {
		if t, _ := d.peek(); t == tagView {
			d.pos++
			return d.v8View(ab)
		}
	}
	return v, nil
}

func (d *decoder) valueInner() (any, error) {
	start := d.pos
	t, err := d.tag()
	if err != nil {
		return nil, err
	}
	switch t {
	case tagVerifyCount:
		if _, err := d.varint(); err != nil {
			return nil, err
		}
		return d.valueInner()
	case tagUndefined:
		return Undefined{}, nil
	case tagNull:
		return nil, nil
	case tagTrue:
		return true, nil
	case tagFalse:
		return false, nil
	case tagInt32:
		u, err := d.varint32()
		return float64(int32(u>>1) ^ -int32(u&1)), err
	case tagUint32:
		u, err := d.varint32()
		return float64(u), err
	case tagDouble:
		return d.double()
	case tagBigInt:
		return d.bigint()
	case tagUTF8, tagOneByte, tagTwoByte:
		return d.stringBody(t)
	case tagRef:
		if d.record {
			d.refs = append(d.refs, start)
		}
		return d.ref()
	case tagObject:
		return d.object()
	case tagDense:
		return d.dense()
	case tagSparse:
		return d.sparse()
	case tagDate:
		return d.date()
	case tagTrueObject, tagFalseObject, tagNumberObject, tagBigIntObject, tagStringObject:
		return d.wrapper(t)
	case tagRegExp:
		return d.regexp()
	case tagMap:
		return d.jsMap()
	case tagSet:
		return d.jsSet()
	case tagArrayBuffer, tagResizableAB:
		return d.arrayBuffer(t == tagResizableAB)
	case tagHostObject:
		return d.hostObject()
	case tagError:
		return d.jsError()
	}
	d.pos = start
	return nil, d.fail("unknown tag " + strconv.QuoteRune(rune(t)))
}

func (d *decoder) ref() (any, error) {
	id, err := d.varint32()
	if err != nil {
		return nil, err
	}
	if int64(id) >= int64(len(d.objs)) || d.objs[id] == nil {
		return nil, d.fail("reference to unknown object " + strconv.Itoa(int(id)))
	}
	switch d.objs[id].(type) {
	case directObject:
		if !d.check {
			return nil, errIndirect
		}
	case *SparseArray:
		if d.selfRef == nil {
			d.selfRef = map[int]bool{}
		}
		d.selfRef[int(id)] = true
	}
	return d.objs[id], nil
}

// stringBody reads a string of the given tag.
func (d *decoder) stringBody(t byte) (string, error) {
	n, err := d.varint32()
	if err != nil {
		return "", err
	}
	b, err := d.raw(uint64(n))
	if err != nil {
		return "", err
	}
	switch {
	case t == tagTwoByte && n%2 != 0:
		return "", d.fail("two-byte string of odd length")
	case d.check:
		return "", nil
	case t == tagOneByte:
		return latin1(b), nil
	case t == tagTwoByte:
		return utf16le(b), nil
	}
	if utf8.Valid(b) {
		return string(b), nil
	}
	return string([]rune(string(b))), nil // each bad byte is U+FFFD, as V8 makes it
}

// str reads a value that must be a string (V8's ReadString).
func (d *decoder) str() (string, error) {
	t, err := d.tag()
	if err != nil {
		return "", err
	}
	if t != tagOneByte && t != tagTwoByte && t != tagUTF8 {
		d.pos--
		return "", d.fail("string expected")
	}
	return d.stringBody(t)
}

// latin1 converts Latin-1 bytes to a Go string.
func latin1(b []byte) string {
	i := 0
	for i < len(b) && b[i] < utf8.RuneSelf {
		i++
	}
	if i == len(b) {
		return string(b)
	}
	out := make([]byte, i, len(b)+(len(b)-i))
	copy(out, b[:i])
	for _, c := range b[i:] {
		out = utf8.AppendRune(out, rune(c))
	}
	return string(out)
}

// utf16le converts UTF-16 code units, little-endian, to a Go string; a
// lone surrogate becomes its three-byte generalized UTF-8 form (WTF-8),
// which the encoder turns back into the same code unit.
func utf16le(b []byte) string {
	out := make([]byte, 0, len(b)+len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		u := rune(binary.LittleEndian.Uint16(b[i:]))
		switch {
		case u < utf8.RuneSelf:
			out = append(out, byte(u))
		case utf16.IsSurrogate(u):
			if u < 0xDC00 && i+3 < len(b) {
				if lo := rune(binary.LittleEndian.Uint16(b[i+2:])); lo >= 0xDC00 && lo <= 0xDFFF {
					out = utf8.AppendRune(out, utf16.DecodeRune(u, lo))
					i += 2
					continue
				}
			}
			out = append(out, 0xE0|byte(u>>12), 0x80|byte(u>>6)&0x3F, 0x80|byte(u)&0x3F)
		default:
			out = utf8.AppendRune(out, u)
		}
	}
	return string(out)
}

func (d *decoder) bigint() (*big.Int, error) {
	bitfield, err := d.varint32()
	if err != nil {
		return nil, err
	}
	digits, err := d.raw(uint64(bitfield >> 1))
	if err != nil || d.check {
		return nil, err
	}
	be := make([]byte, len(digits))
	for i, c := range digits {
		be[len(digits)-1-i] = c
	}
	n := new(big.Int).SetBytes(be)
	if bitfield&1 != 0 {
		n.Neg(n)
	}
	return n, nil
}

// objectKey reads a property key: a string, or a number that JavaScript
// turns into one.
func (d *decoder) objectKey() (string, error) {
	k, err := d.value()
	if err != nil {
		return "", err
	}
	switch k := k.(type) {
	case string:
		return k, nil
	case float64:
		if d.check {
			return "", nil
		}
		return jsNumberString(k), nil
	}
	return "", d.fail("object key is neither a string nor a number")
}

// jsNumberString formats f as JavaScript's String(f) does for the
// numbers that are property keys.
func jsNumberString(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e21 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// properties reads key/value pairs up to the end tag and returns how
// many there were.
func (d *decoder) properties(end byte, set func(key string, v any)) (uint32, error) {
	var n uint32
	for {
		t, err := d.peek()
		if err != nil {
			return 0, err
		}
		if t == end {
			d.pos++
			return n, nil
		}
		k, err := d.objectKey()
		if err != nil {
			return 0, err
		}
		v, err := d.value()
		if err != nil {
			return 0, err
		}
		set(k, v)
		n++
	}
}

// expect reads a varint count and checks it against the one counted.
// members reads properties up to end, then their count.
func (d *decoder) members(end byte, set func(key string, v any)) error {
	n, err := d.properties(end, set)
	if err != nil {
		return err
	}
	return d.expect(n, "property")
}

// arrayEnd reads an array's properties up to end, their count, then the
// array's length.
func (d *decoder) arrayEnd(end byte, length uint32, set func(key string, v any)) error {
	if err := d.members(end, set); err != nil {
		return err
	}
	return d.expect(length, "length")
}

func (d *decoder) expect(counted uint32, what string) error {
	n, err := d.varint32()
	if err != nil {
		return err
	}
	if n != counted {
		return d.fail(what + " count " + strconv.Itoa(int(n)) + " is not the " + strconv.Itoa(int(counted)) + " read")
	}
	return nil
}

func (d *decoder) object() (any, error) {
	if d.check {
		d.objs = append(d.objs, placeholder)
		return placeholder, d.members(tagObjectEnd, func(string, any) {})
	}
	m := map[string]any{}
	d.objs = append(d.objs, m)
	return m, d.members(tagObjectEnd, func(k string, v any) { m[k] = v })
}

// arrayIndex reports whether k is a canonical array index below limit.
func arrayIndex(k string) (uint32, bool) {
	if k == "" || len(k) > 10 || (k[0] == '0' && len(k) > 1) {
		return 0, false
	}
	n, err := strconv.ParseUint(k, 10, 32)
	if err != nil || n == math.MaxUint32 {
		return 0, false
	}
	return uint32(n), true
}

func (d *decoder) dense() (any, error) {
	length, err := d.varint32()
	if err != nil {
		return nil, err
	}
	if uint64(length) > uint64(len(d.data)-d.pos) {
		return nil, d.fail("array longer than the message")
	}
	var arr []any
	if !d.check {
		arr = make([]any, length)
	}
	id := d.newID()
	d.objs[id] = arr
	if d.check {
		d.objs[id] = placeholder
	}
	for i := range length {
		if t, err := d.peek(); err == nil && t == tagHole {
			d.pos++
			if arr != nil {
				arr[i] = Undefined{}
			}
			continue
		}
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		if arr != nil {
			arr[i] = v
		}
	}
	return arr, d.arrayEnd(tagDenseEnd, length, func(k string, v any) {
		if i, ok := arrayIndex(k); ok && i < uint32(len(arr)) {
			arr[i] = v
		}
	})
}

func (d *decoder) sparse() (any, error) {
	start, refs := d.pos, len(d.refs)
	length, err := d.varint32()
	if err != nil {
		return nil, err
	}
	if d.denseAt[start] {
		return d.sparseDense(length)
	}
	sa := &SparseArray{Length: length, Elems: map[uint32]any{}}
	id := d.newID()
	d.objs[id] = sa
	err = d.arrayEnd(tagSparseEnd, length, func(k string, v any) {
		if i, ok := arrayIndex(k); ok && !d.check {
			sa.Elems[i] = v
			sa.Length = max(sa.Length, i+1)
		}
	})
	if err != nil {
		return nil, err
	}
	if d.check || uint64(len(sa.Elems)) != uint64(sa.Length) {
		return sa, nil
	}
	if d.selfRef[id] && d.redos < maxRedos { // read it again as a []any
		d.redos++
		if d.denseAt == nil {
			d.denseAt = map[int]bool{}
		}
		d.denseAt[start] = true
		for k := range d.selfRef {
			if k >= id {
				delete(d.selfRef, k)
			}
		}
		d.pos, d.objs, d.refs = start, d.objs[:id], d.refs[:refs]
		return d.sparse()
	}
	if d.selfRef[id] {
		return sa, nil // the references to it stay right
	}
	arr := make([]any, sa.Length) // no holes: a plain array
	for i, v := range sa.Elems {
		arr[i] = v
	}
	d.objs[id] = arr
	return arr, nil
}

// sparseDense reads a sparse array known to have no holes into a []any
// (the second reading of one that refers to itself).
func (d *decoder) sparseDense(length uint32) (any, error) {
	arr := make([]any, length)
	id := d.newID()
	d.objs[id] = arr
	return arr, d.arrayEnd(tagSparseEnd, length, func(k string, v any) {
		if i, ok := arrayIndex(k); ok && i < length {
			arr[i] = v
		}
	})
}

func (d *decoder) date() (any, error) {
	ms, err := d.double()
	if err != nil {
		return nil, err
	}
	t := dateTime(ms)
	d.objs = append(d.objs, t)
	return t, nil
}

// dateTime is the time of a Date's time value; an invalid Date is the
// zero time.
func dateTime(ms float64) time.Time {
	if math.IsNaN(ms) || math.Abs(ms) > maxDateMs {
		return time.Time{}
	}
	sec := math.Floor(ms / 1000)
	return time.Unix(int64(sec), int64((ms-sec*1000)*1e6)).UTC()
}

// wrapper reads a primitive wrapper object (new Number(1), Object(1n)…)
// as the primitive it wraps.
func (d *decoder) wrapper(t byte) (any, error) {
	id := d.newID()
	var v any
	var err error
	switch t {
	case tagTrueObject:
		v = true
	case tagFalseObject:
		v = false
	case tagNumberObject:
		v, err = d.double()
	case tagBigIntObject:
		v, err = d.bigint()
	case tagStringObject:
		v, err = d.str()
	}
	d.objs[id] = v
	return v, err
}

func (d *decoder) regexp() (any, error) {
	id := d.newID()
	src, err := d.str()
	if err != nil {
		return nil, err
	}
	bits, err := d.varint32()
	if err != nil {
		return nil, err
	}
	flags, ok := regexpFlagString(bits)
	if !ok || bits&regexpUnicode != 0 && bits&regexpUnicodeSets != 0 {
		return nil, d.fail("bad regular expression flags " + strconv.Itoa(int(bits)))
	}
	re := RegExp{Source: src, Flags: flags}
	d.objs[id] = re
	return re, nil
}

func (d *decoder) jsMap() (any, error) {
	m := &Map{}
	d.objs = append(d.objs, m)
	n := 0
	for {
		t, err := d.peek()
		if err != nil {
			return nil, err
		}
		if t == tagMapEnd {
			d.pos++
			return m, d.expect(uint32(2*n), "map entry")
		}
		k, err := d.value()
		if err != nil {
			return nil, err
		}
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		if !d.check {
			m.Entries = append(m.Entries, MapEntry{k, v})
		}
		n++
	}
}

func (d *decoder) jsSet() (any, error) {
	s := &Set{}
	d.objs = append(d.objs, s)
	n := 0
	for {
		t, err := d.peek()
		if err != nil {
			return nil, err
		}
		if t == tagSetEnd {
			d.pos++
			return s, d.expect(uint32(n), "set element")
		}
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		if !d.check {
			s.Values = append(s.Values, v)
		}
		n++
	}
}

func (d *decoder) arrayBuffer(resizable bool) (any, error) {
	id := d.newID()
	n, err := d.varint32()
	if err != nil {
		return nil, err
	}
	if resizable {
		maxLen, err := d.varint32()
		if err != nil {
			return nil, err
		}
		if n > maxLen {
			return nil, d.fail("resizable ArrayBuffer longer than its maximum")
		}
	}
	b, err := d.raw(uint64(n))
	if err != nil {
		return nil, err
	}
	ab := ArrayBuffer(b) // only looked at, when checking
	if !d.check {
		ab = append(ArrayBuffer{}, b...)
	}
	d.objs[id] = ab
	return ab, nil
}

// v8View reads V8's own view of the ArrayBuffer just read.
func (d *decoder) v8View(ab ArrayBuffer) (any, error) {
	sub, err := d.tag()
	if err != nil {
		return nil, err
	}
	off, err := d.varint32()
	if err != nil {
		return nil, err
	}
	n, err := d.varint32()
	if err != nil {
		return nil, err
	}
	if d.version >= 14 {
		if _, err := d.varint32(); err != nil {
			return nil, err
		}
	}
	typ, ok := v8ViewTypes[sub]
	if !ok || uint64(off)+uint64(n) > uint64(len(ab)) {
		return nil, d.fail("bad ArrayBuffer view")
	}
	id := d.newID()
	v, err := d.view(typ, ab[off:off+n])
	d.objs[id] = v
	return v, err
}

func (d *decoder) hostObject() (any, error) {
	id := d.newID()
	kind, err := d.varint32()
	if err != nil {
		return nil, err
	}
	var v any
	switch kind {
	case hostView:
		typ, err := d.varint32()
		if err != nil {
			return nil, err
		}
		n, err := d.varint32()
		if err != nil {
			return nil, err
		}
		b, err := d.raw(uint64(n))
		if err != nil {
			return nil, err
		}
		if typ >= viewTypes {
			return nil, d.fail("unknown ArrayBufferView type " + strconv.Itoa(int(typ)))
		}
		if v, err = d.view(int(typ), b); err != nil {
			return nil, err
		}
	case hostOther:
		if v, err = d.value(); err != nil {
			return nil, err
		}
	default:
		return nil, d.fail("unknown host object kind " + strconv.Itoa(int(kind)))
	}
	d.objs[id] = v
	return v, nil
}

// view makes the Go slice of a view of type typ over b (copied).
func (d *decoder) view(typ int, b []byte) (any, error) {
	size := viewElemSize[typ]
	if len(b)%size != 0 {
		return nil, d.fail("typed array of " + strconv.Itoa(len(b)) + " bytes, not a multiple of " + strconv.Itoa(size))
	}
	n := len(b) / size
	if d.check {
		return placeholder, nil
	}
	switch typ {
	case viewUint8, viewBuffer:
		return append([]byte{}, b...), nil
	case viewUint8Clamped:
		return Uint8ClampedArray(append([]byte{}, b...)), nil
	case viewDataView:
		return DataView(append([]byte{}, b...)), nil
	case viewInt8:
		return viewOf[int8](b, n), nil
	case viewInt16:
		return viewOf[int16](b, n), nil
	case viewUint16:
		return viewOf[uint16](b, n), nil
	case viewInt32:
		return viewOf[int32](b, n), nil
	case viewUint32:
		return viewOf[uint32](b, n), nil
	case viewFloat32:
		return viewOf[float32](b, n), nil
	case viewFloat64:
		return viewOf[float64](b, n), nil
	case viewBigInt64:
		return viewOf[int64](b, n), nil
	default: // viewBigUint64
		return viewOf[uint64](b, n), nil
	}
}

// viewOf decodes b, n little-endian numbers of type T, into a new slice;
// the caller has checked that b holds exactly n of them.
func viewOf[T int8 | int16 | uint16 | int32 | uint32 | float32 | float64 | int64 | uint64](b []byte, n int) []T {
	s := make([]T, n)
	binary.Decode(b, binary.LittleEndian, s)
	return s
}

func (d *decoder) jsError() (any, error) {
	e := &JSError{Name: "Error"}
	d.objs = append(d.objs, e)
	first := true
	for {
		sub, err := d.varint()
		if err != nil {
			return nil, err
		}
		switch {
		case sub == errEnd:
			return e, nil
		case sub == errMessage:
			if e.Message, err = d.str(); err != nil {
				return nil, err
			}
		case sub == errStack:
			if e.Stack, err = d.str(); err != nil {
				return nil, err
			}
		case sub == errCause:
			if e.Cause, err = d.value(); err != nil {
				return nil, err
			}
		case first && sub < 256 && errorNames[byte(sub)] != "":
			e.Name = errorNames[byte(sub)]
		default:
			return nil, d.fail("unknown Error sub-tag " + strconv.Itoa(int(sub)))
		}
		first = false
	}
}

// checkAdvanced reports whether payload is one serialized value (a
// header and a value that V8 would read), building nothing of it.
func checkAdvanced(payload []byte) error {
	d := decoder{data: payload, check: true}
	if err := d.header(); err != nil {
		return err
	}
	_, err := d.value()
	return err
}

// decodeAdvanced decodes one serialized payload (header and value) into
// a Go value.
func decodeAdvanced(payload []byte) (any, error) {
	d := decoder{data: payload}
	if err := d.header(); err != nil {
		return nil, err
	}
	return d.value()
}
