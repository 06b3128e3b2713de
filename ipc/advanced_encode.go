package ipc

import (
	"encoding"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/childproc/childproc/internal/jsontext"
)

// An encoder appends V8's serialization of Go values to buf.
type v8encoder struct {
	buf   []byte
	base  int                // where the frame starts in buf: two-byte strings are aligned from there
	next  uint32             // the id of the next object written
	seen  []seenObject       // the first objects remembered, searched in order
	more  map[seenKey]uint32 // the others, once seen is full
	depth int
	// errs are the ids of the Errors whose cause is being written: Node
	// 20 cannot read a cause that refers back to its Error (it makes the
	// Error once the cause is read), so such a reference is refused.
	errs []uint32
	bad  error
}

// seenLinear is how many remembered objects are searched in order
// before a map takes the rest.
const seenLinear = 16

type seenKey struct {
	p uintptr
	n int
	t reflect.Type
}

// A seenObject is an object already written, for back-references: a
// pointer, map or slice, known by its address and type (and length).
type seenObject struct {
	p  uintptr
	n  int
	t  reflect.Type
	id uint32
}

var v8encoders = sync.Pool{New: func() any { return new(v8encoder) }}

// notSerializable is the error of a value the codec cannot encode.
func notSerializable(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrNotSerializable, fmt.Sprintf(format, args...))
}

func (e *v8encoder) byte(b byte) { e.buf = append(e.buf, b) }

// jsonText encodes the value that the JSON text b holds.
func (e *v8encoder) jsonText(b []byte) error {
	var x any
	if err := json.Unmarshal(b, &x); err != nil {
		return notSerializable("json.RawMessage: %v", err)
	}
	return e.value(x)
}

func (e *v8encoder) varint(x uint64) { e.buf = binary.AppendUvarint(e.buf, x) }

// canonicalNaN is the NaN V8 writes.
const canonicalNaN = 0x7FF8000000000000

func (e *v8encoder) double(f float64) {
	if f != f {
		e.buf = binary.LittleEndian.AppendUint64(e.buf, canonicalNaN)
		return
	}
	e.buf = binary.LittleEndian.AppendUint64(e.buf, math.Float64bits(f))
}

// object starts an object (anything with an id) and returns its id.
func (e *v8encoder) object() uint32 {
	id := e.next
	e.next++
	return id
}

// backRef writes a back-reference if the object at p was written before,
// and otherwise remembers it under the id it is about to get.
func (e *v8encoder) backRef(p uintptr, n int, t reflect.Type) bool {
	for _, s := range e.seen {
		if s.p == p && s.n == n && s.t == t {
			e.ref(s.id)
			return true
		}
	}
	if len(e.seen) < seenLinear {
		e.seen = append(e.seen, seenObject{p, n, t, e.next})
		return false
	}
	k := seenKey{p, n, t}
	if id, ok := e.more[k]; ok {
		e.ref(id)
		return true
	}
	if e.more == nil {
		e.more = map[seenKey]uint32{}
	}
	e.more[k] = e.next
	return false
}

// ref writes a back-reference to object id.
func (e *v8encoder) ref(id uint32) {
	if slices.Contains(e.errs, id) && e.bad == nil {
		e.bad = notSerializable("an Error whose cause refers back to it (Node cannot read it)")
	}
	e.byte(tagRef)
	e.varint(uint64(id))
}

// smi reports whether f is a number V8 holds as a small integer, which
// it writes as an int32.
func smi(f float64) bool {
	return f >= math.MinInt32 && f <= math.MaxInt32 && f == math.Trunc(f) && !(f == 0 && math.Signbit(f))
}

func (e *v8encoder) int32(i int32) {
	e.byte(tagInt32)
	e.varint(uint64(uint32(i<<1) ^ uint32(i>>31)))
}

func (e *v8encoder) number(f float64) {
	if smi(f) {
		e.int32(int32(f))
		return
	}
	e.byte(tagDouble)
	e.double(f)
}

func (e *v8encoder) int(i int64) {
	if i >= math.MinInt32 && i <= math.MaxInt32 {
		e.int32(int32(i))
		return
	}
	e.byte(tagDouble)
	e.double(float64(i))
}

func (e *v8encoder) uint(u uint64) {
	if u <= math.MaxInt32 {
		e.int32(int32(u))
		return
	}
	e.byte(tagDouble)
	e.double(float64(u))
}

// str writes s as V8 writes a string: one byte a character if every
// character is below U+0100, else UTF-16 (aligned to two bytes with a
// padding tag). A lone surrogate's generalized UTF-8 form becomes that
// code unit; other bytes that are not UTF-8 become U+FFFD.
func (e *v8encoder) str(s string) {
	i := asciiPrefix(s)
	if i == len(s) {
		e.byte(tagOneByte)
		e.varint(uint64(len(s)))
		e.buf = append(e.buf, s...)
		return
	}
	if oneByte(s[i:]) {
		e.latin1(s, i)
		return
	}
	e.twoByte(s)
}

// asciiPrefix returns the length of the ASCII bytes s starts with,
// looking at 8 bytes at a time.
func asciiPrefix(s string) int {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		if binary.LittleEndian.Uint64([]byte(s[i:i+8]))&0x8080808080808080 != 0 {
			break
		}
	}
	for i < len(s) && s[i] < utf8.RuneSelf {
		i++
	}
	return i
}

// oneByte reports whether s is valid UTF-8 of characters below U+0100.
func oneByte(s string) bool {
	for _, r := range s {
		if r >= 0x100 || r == utf8.RuneError {
			return false
		}
	}
	return true
}

// latin1 writes s, whose first ascii bytes are ASCII, as Latin-1.
func (e *v8encoder) latin1(s string, ascii int) {
	n := ascii + utf8.RuneCountInString(s[ascii:])
	e.byte(tagOneByte)
	e.varint(uint64(n))
	e.buf = append(e.buf, s[:ascii]...)
	for _, r := range s[ascii:] {
		e.buf = append(e.buf, byte(r))
	}
}

func (e *v8encoder) twoByte(s string) {
	units := 0
	for i := 0; i < len(s); {
		r, w := decodeWTF8(s[i:])
		units++
		if r >= 0x10000 {
			units++
		}
		i += w
	}
	byteLen := uint64(2 * units)
	if (len(e.buf)-e.base+1+varintLen(byteLen))&1 != 0 {
		e.byte(tagPadding)
	}
	e.byte(tagTwoByte)
	e.varint(byteLen)
	for i := 0; i < len(s); {
		r, w := decodeWTF8(s[i:])
		i += w
		if r >= 0x10000 {
			hi, lo := utf16.EncodeRune(r)
			e.buf = binary.LittleEndian.AppendUint16(e.buf, uint16(hi))
			e.buf = binary.LittleEndian.AppendUint16(e.buf, uint16(lo))
			continue
		}
		e.buf = binary.LittleEndian.AppendUint16(e.buf, uint16(r))
	}
}

// decodeWTF8 decodes the first character of s, taking the three-byte
// form of a surrogate (which UTF-8 forbids) as that surrogate; a byte
// that starts nothing valid is U+FFFD.
func decodeWTF8(s string) (rune, int) {
	if len(s) >= 3 && s[0] == 0xED && s[1] >= 0xA0 && s[1] <= 0xBF && s[2] >= 0x80 && s[2] <= 0xBF {
		return rune(0xD000) | rune(s[1]&0x3F)<<6 | rune(s[2]&0x3F), 3
	}
	return utf8.DecodeRuneInString(s)
}

func varintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

func (e *v8encoder) bigint(n *big.Int) {
	e.byte(tagBigInt)
	e.bigintBody(n)
}

func (e *v8encoder) bigintBody(n *big.Int) {
	words := (n.BitLen() + 63) / 64
	bitfield := uint64(words*8) << 1
	if n.Sign() < 0 {
		bitfield |= 1
	}
	e.varint(bitfield)
	be := n.Bytes()
	start := len(e.buf)
	e.buf = append(e.buf, make([]byte, words*8)...)
	for i, c := range be {
		e.buf[start+len(be)-1-i] = c
	}
}

func (e *v8encoder) date(t time.Time) {
	e.object()
	e.byte(tagDate)
	ms := float64(t.UnixMilli())
	if t.IsZero() || math.Abs(ms) > maxDateMs {
		ms = math.NaN()
	}
	e.double(ms)
}

func (e *v8encoder) regexp(r RegExp) error {
	bits, ok := regexpFlagBits(r.Flags)
	if !ok || bits&regexpUnicode != 0 && bits&regexpUnicodeSets != 0 {
		return notSerializable("RegExp flags %q", r.Flags)
	}
	e.object()
	e.byte(tagRegExp)
	e.str(r.Source)
	e.varint(uint64(bits))
	return nil
}

// view writes b as Node writes an ArrayBufferView of type typ.
func (e *v8encoder) view(typ int, b []byte) {
	e.object()
	e.buf = append(e.buf, tagHostObject, hostView, byte(typ))
	e.varint(uint64(len(b)))
	e.buf = append(e.buf, b...)
}

// typedView writes a typed array of fixed-size elements, little-endian.
func typedView[T any](e *v8encoder, typ int, s []T, put func([]byte, T) []byte) {
	e.object()
	e.buf = append(e.buf, tagHostObject, hostView, byte(typ))
	e.varint(uint64(len(s) * viewElemSize[typ]))
	for _, x := range s {
		e.buf = put(e.buf, x)
	}
}

func (e *v8encoder) jsError(x *JSError) error {
	if e.backRef(reflect.ValueOf(x).Pointer(), 0, jsErrorType) {
		return nil
	}
	id := e.object()
	e.byte(tagError)
	for tag, name := range errorNames {
		if x.Name == name {
			e.byte(tag)
		}
	}
	if x.Message != "" {
		e.byte(errMessage)
		e.str(x.Message)
	}
	if x.Cause != nil { // Node 20 writes the cause before the stack
		e.byte(errCause)
		e.errs = append(e.errs, id)
		err := e.value(x.Cause)
		e.errs = e.errs[:len(e.errs)-1]
		if err != nil {
			return err
		}
		if e.bad != nil {
			return e.bad
		}
	}
	if x.Stack != "" {
		e.byte(errStack)
		e.str(x.Stack)
	}
	e.byte(errEnd)
	return nil
}

func (e *v8encoder) jsMap(m *Map) error {
	if e.backRef(reflect.ValueOf(m).Pointer(), 0, mapType) {
		return nil
	}
	e.object()
	e.byte(tagMap)
	for _, en := range m.Entries {
		if err := e.value(en.Key); err != nil {
			return err
		}
		if err := e.value(en.Value); err != nil {
			return err
		}
	}
	e.byte(tagMapEnd)
	e.varint(uint64(2 * len(m.Entries)))
	return nil
}

func (e *v8encoder) jsSet(s *Set) error {
	if e.backRef(reflect.ValueOf(s).Pointer(), 0, setType) {
		return nil
	}
	e.object()
	e.byte(tagSet)
	for _, v := range s.Values {
		if err := e.value(v); err != nil {
			return err
		}
	}
	e.byte(tagSetEnd)
	e.varint(uint64(len(s.Values)))
	return nil
}

func (e *v8encoder) sparse(a *SparseArray) error {
	if e.backRef(reflect.ValueOf(a).Pointer(), 0, sparseType) {
		return nil
	}
	e.object()
	e.byte(tagSparse)
	e.varint(uint64(a.Length))
	idx := make([]uint32, 0, len(a.Elems))
	for i := range a.Elems {
		if i < a.Length {
			idx = append(idx, i)
		}
	}
	slices.Sort(idx)
	for _, i := range idx {
		e.key(strconv.FormatUint(uint64(i), 10))
		if err := e.value(a.Elems[i]); err != nil {
			return err
		}
	}
	e.byte(tagSparseEnd)
	e.varint(uint64(len(idx)))
	e.varint(uint64(a.Length))
	return nil
}

// key writes a property key: an array index as a number, as V8 does.
func (e *v8encoder) key(k string) {
	if i, ok := arrayIndex(k); ok {
		e.uint(uint64(i))
		return
	}
	e.str(k)
}

// sortedKeys orders an object's keys as JavaScript does for keys added
// in sorted order: array indexes first, by value, then the others.
func sortedKeys(keys []string) {
	slices.SortFunc(keys, func(a, b string) int {
		ia, aok := arrayIndex(a)
		ib, bok := arrayIndex(b)
		switch {
		case aok && bok:
			return int(int64(ia) - int64(ib))
		case aok:
			return -1
		case bok:
			return 1
		}
		return strings.Compare(a, b)
	})
}

func (e *v8encoder) object_(m map[string]any) error {
	if e.backRef(reflect.ValueOf(m).Pointer(), 0, objectType) {
		return nil
	}
	e.object()
	e.byte(tagObject)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sortedKeys(keys)
	for _, k := range keys {
		e.key(k)
		if err := e.value(m[k]); err != nil {
			return err
		}
	}
	e.byte(tagObjectEnd)
	e.varint(uint64(len(m)))
	return nil
}

// doubles reports whether V8 would hold the numbers of an array as
// doubles: all are numbers and one is no small integer. It then writes
// every element as a double.
func doubles(n int, at func(int) (float64, bool)) bool {
	other := false
	for i := 0; i < n; i++ {
		f, ok := at(i)
		if !ok {
			return false
		}
		other = other || !smi(f)
	}
	return other
}

func (e *v8encoder) array(a []any) error {
	if len(a) > 0 && e.backRef(uintptr(reflect.ValueOf(a).UnsafePointer()), len(a), arrayType) {
		return nil
	}
	e.object()
	e.byte(tagDense)
	e.varint(uint64(len(a)))
	if doubles(len(a), func(i int) (float64, bool) { return number(a[i]) }) {
		for _, v := range a {
			f, _ := number(v)
			e.byte(tagDouble)
			e.double(f)
		}
	} else {
		for _, v := range a {
			if err := e.value(v); err != nil {
				return err
			}
		}
	}
	e.byte(tagDenseEnd)
	e.varint(0)
	e.varint(uint64(len(a)))
	return nil
}

// number returns v as a JavaScript number, if it is one.
func number(v any) (float64, bool) {
	switch v := v.(type) {
	case float64:
		return v, true
	case int:
		return float64(v), true
	case float32:
		return float64(v), true
	case int64:
		return float64(v), true
	case int32:
		return float64(v), true
	}
	return 0, false
}

var (
	objectType    = reflect.TypeFor[map[string]any]()
	arrayType     = reflect.TypeFor[[]any]()
	mapType       = reflect.TypeFor[*Map]()
	setType       = reflect.TypeFor[*Set]()
	sparseType    = reflect.TypeFor[*SparseArray]()
	jsErrorType   = reflect.TypeFor[*JSError]()
	timeType      = reflect.TypeFor[time.Time]()
	bigIntType    = reflect.TypeFor[big.Int]()
	marshalerType = reflect.TypeFor[json.Marshaler]()
	textType      = reflect.TypeFor[encoding.TextMarshaler]()
)

// value writes v: the common types by a type switch, the rest by
// reflection.
func (e *v8encoder) value(v any) error {
	e.depth++
	defer func() { e.depth-- }()
	if e.depth > maxDepth {
		return notSerializable("nested more than %d deep", maxDepth)
	}
	switch v := v.(type) {
	case nil:
		e.byte(tagNull)
	case Undefined:
		e.byte(tagUndefined)
	case bool:
		if v {
			e.byte(tagTrue)
		} else {
			e.byte(tagFalse)
		}
	case string:
		e.str(v)
	case float64:
		e.number(v)
	case int:
		e.int(int64(v))
	case map[string]any:
		if v == nil {
			e.byte(tagNull)
			return nil
		}
		return e.object_(v)
	case []any:
		if v == nil {
			e.byte(tagNull)
			return nil
		}
		return e.array(v)
	case []byte:
		if v == nil {
			e.byte(tagNull)
			return nil
		}
		e.view(viewBuffer, v)
	case ArrayBuffer:
		e.object()
		e.byte(tagArrayBuffer)
		e.varint(uint64(len(v)))
		e.buf = append(e.buf, v...)
	case DataView:
		e.view(viewDataView, v)
	case Uint8ClampedArray:
		e.view(viewUint8Clamped, v)
	case *Map:
		return e.jsMap(v)
	case *Set:
		return e.jsSet(v)
	case *SparseArray:
		return e.sparse(v)
	case *JSError:
		return e.jsError(v)
	case RegExp:
		return e.regexp(v)
	case time.Time:
		e.date(v)
	case *big.Int:
		if v == nil {
			e.byte(tagNull)
			return nil
		}
		e.bigint(v)
	case json.RawMessage:
		return e.jsonText(v)
	case *jsontext.Text:
		return e.jsonText(*v)
	case RawValue:
		return notSerializable("a RawValue inside another value")
	default:
		return e.reflectValue(reflect.ValueOf(v))
	}
	return nil
}

// reflectValue writes values of other types, as encoding/json would
// (structs as objects of their exported fields, by their json names)
// and with V8's types where JavaScript has them.
func (e *v8encoder) reflectValue(rv reflect.Value) error {
	t := rv.Type()
	switch {
	case t.Kind() == reflect.Pointer && (t.Elem() == timeType || t.Elem() == bigIntType):
		if rv.IsNil() {
			e.byte(tagNull)
			return nil
		}
		return e.reflectValue(rv.Elem())
	case t == timeType:
		e.date(rv.Interface().(time.Time))
		return nil
	case t == bigIntType:
		b := rv.Interface().(big.Int)
		e.bigint(&b)
		return nil
	case t.Kind() != reflect.Pointer && t.Implements(marshalerType) || t.Kind() == reflect.Pointer && !rv.IsNil() && t.Implements(marshalerType):
		return e.marshaled(rv)
	case t.Implements(textType) && (t.Kind() != reflect.Pointer || !rv.IsNil()):
		text, err := rv.Interface().(encoding.TextMarshaler).MarshalText()
		if err != nil {
			return notSerializable("%v: %v", t, err)
		}
		e.str(string(text))
		return nil
	}
	switch rv.Kind() {
	case reflect.Bool:
		return e.value(rv.Bool())
	case reflect.String:
		e.str(rv.String())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		e.int(rv.Int())
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		e.uint(rv.Uint())
	case reflect.Float32, reflect.Float64:
		e.number(rv.Float())
	case reflect.Interface:
		if rv.IsNil() {
			e.byte(tagNull)
			return nil
		}
		return e.value(rv.Elem().Interface())
	case reflect.Pointer:
		return e.pointer(rv)
	case reflect.Map:
		return e.goMap(rv)
	case reflect.Slice:
		return e.slice(rv)
	case reflect.Array:
		return e.list(rv)
	case reflect.Struct:
		return e.structValue(rv)
	default:
		return notSerializable("a value of type %v", t)
	}
	return nil
}

// marshaled writes what a json.Marshaler makes of itself.
func (e *v8encoder) marshaled(rv reflect.Value) error {
	text, err := rv.Interface().(json.Marshaler).MarshalJSON()
	if err != nil {
		return notSerializable("%v: %v", rv.Type(), err)
	}
	var x any
	if err := json.Unmarshal(text, &x); err != nil {
		return notSerializable("%v: MarshalJSON: %v", rv.Type(), err)
	}
	return e.value(x)
}

func (e *v8encoder) pointer(rv reflect.Value) error {
	if rv.IsNil() {
		e.byte(tagNull)
		return nil
	}
	switch rv.Elem().Kind() {
	case reflect.Struct, reflect.Map, reflect.Slice, reflect.Array:
		if rv.Type().Elem() != bigIntType && e.backRef(rv.Pointer(), 0, rv.Type()) {
			return nil
		}
	}
	return e.reflectValue(rv.Elem())
}

func (e *v8encoder) goMap(rv reflect.Value) error {
	if rv.IsNil() {
		e.byte(tagNull)
		return nil
	}
	kt := rv.Type().Key()
	var keyString func(reflect.Value) string
	switch kt.Kind() {
	case reflect.String:
		keyString = reflect.Value.String
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		keyString = func(k reflect.Value) string { return strconv.FormatInt(k.Int(), 10) }
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		keyString = func(k reflect.Value) string { return strconv.FormatUint(k.Uint(), 10) }
	default:
		return e.goMapAsMap(rv)
	}
	if e.backRef(rv.Pointer(), 0, rv.Type()) {
		return nil
	}
	e.object()
	e.byte(tagObject)
	keys := make([]string, 0, rv.Len())
	vals := make(map[string]reflect.Value, rv.Len())
	for it := rv.MapRange(); it.Next(); {
		k := keyString(it.Key())
		keys = append(keys, k)
		vals[k] = it.Value()
	}
	sortedKeys(keys)
	for _, k := range keys {
		e.key(k)
		if err := e.reflectValue(vals[k]); err != nil {
			return err
		}
	}
	e.byte(tagObjectEnd)
	e.varint(uint64(len(keys)))
	return nil
}

// goMapAsMap writes a Go map whose keys are neither strings nor
// integers as a JavaScript Map, its entries ordered by key (numbers and
// booleans by value, other keys by their fmt form) so that the bytes do
// not depend on Go's map order.
func (e *v8encoder) goMapAsMap(rv reflect.Value) error {
	if e.backRef(rv.Pointer(), 0, rv.Type()) {
		return nil
	}
	keys := rv.MapKeys()
	slices.SortFunc(keys, compareKeys)
	e.object()
	e.byte(tagMap)
	for _, k := range keys {
		if err := e.reflectValue(k); err != nil {
			return err
		}
		if err := e.reflectValue(rv.MapIndex(k)); err != nil {
			return err
		}
	}
	e.byte(tagMapEnd)
	e.varint(uint64(2 * len(keys)))
	return nil
}

func compareKeys(a, b reflect.Value) int {
	switch a.Kind() {
	case reflect.Float32, reflect.Float64:
		x, y := a.Float(), b.Float()
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	case reflect.Bool:
		if a.Bool() == b.Bool() {
			return 0
		}
		if b.Bool() {
			return -1
		}
		return 1
	}
	return strings.Compare(fmt.Sprint(a.Interface()), fmt.Sprint(b.Interface()))
}

func (e *v8encoder) slice(rv reflect.Value) error {
	if rv.IsNil() {
		e.byte(tagNull)
		return nil
	}
	if rv.Len() > 0 && e.backRef(uintptr(rv.UnsafePointer()), rv.Len(), rv.Type()) {
		return nil
	}
	switch rv.Type().Elem().Kind() {
	case reflect.Uint8:
		e.view(viewBuffer, rv.Bytes())
	case reflect.Int8:
		typedView(e, viewInt8, rv.Interface().([]int8), func(b []byte, x int8) []byte { return append(b, byte(x)) })
	default:
		if typed, ok := e.typedSlice(rv); ok {
			return typed
		}
		return e.list(rv)
	}
	return nil
}

// typedSlice writes a slice of a fixed-size number type as its typed
// array; ok is false for other slices.
func (e *v8encoder) typedSlice(rv reflect.Value) (err error, ok bool) {
	n := rv.Len()
	put := func(typ int, f func(i int)) {
		e.object()
		e.buf = append(e.buf, tagHostObject, hostView, byte(typ))
		e.varint(uint64(n * viewElemSize[typ]))
		for i := 0; i < n; i++ {
			f(i)
		}
	}
	le := binary.LittleEndian
	switch rv.Type().Elem().Kind() {
	case reflect.Int16:
		put(viewInt16, func(i int) { e.buf = le.AppendUint16(e.buf, uint16(rv.Index(i).Int())) })
	case reflect.Uint16:
		put(viewUint16, func(i int) { e.buf = le.AppendUint16(e.buf, uint16(rv.Index(i).Uint())) })
	case reflect.Int32:
		put(viewInt32, func(i int) { e.buf = le.AppendUint32(e.buf, uint32(rv.Index(i).Int())) })
	case reflect.Uint32:
		put(viewUint32, func(i int) { e.buf = le.AppendUint32(e.buf, uint32(rv.Index(i).Uint())) })
	case reflect.Float32:
		put(viewFloat32, func(i int) { e.buf = le.AppendUint32(e.buf, math.Float32bits(float32(rv.Index(i).Float()))) })
	case reflect.Float64:
		put(viewFloat64, func(i int) { e.double(rv.Index(i).Float()) })
	case reflect.Int64:
		put(viewBigInt64, func(i int) { e.buf = le.AppendUint64(e.buf, uint64(rv.Index(i).Int())) })
	case reflect.Uint64:
		put(viewBigUint64, func(i int) { e.buf = le.AppendUint64(e.buf, rv.Index(i).Uint()) })
	default:
		return nil, false
	}
	return nil, true
}

// list writes a slice or an array as a dense array.
func (e *v8encoder) list(rv reflect.Value) error {
	n := rv.Len()
	e.object()
	e.byte(tagDense)
	e.varint(uint64(n))
	numeric := false
	switch rv.Type().Elem().Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		numeric = doubles(n, func(i int) (float64, bool) { return reflectNumber(rv.Index(i)), true })
	}
	for i := 0; i < n; i++ {
		if numeric {
			e.byte(tagDouble)
			e.double(reflectNumber(rv.Index(i)))
			continue
		}
		if err := e.reflectValue(rv.Index(i)); err != nil {
			return err
		}
	}
	e.byte(tagDenseEnd)
	e.varint(0)
	e.varint(uint64(n))
	return nil
}

func reflectNumber(v reflect.Value) float64 {
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return float64(v.Int())
	case reflect.Float32, reflect.Float64:
		return v.Float()
	}
	return float64(v.Uint())
}

func (e *v8encoder) structValue(rv reflect.Value) error {
	switch rv.Type() {
	case reflect.TypeFor[JSError]():
		x := rv.Interface().(JSError)
		return e.jsError(&x)
	case reflect.TypeFor[Map]():
		x := rv.Interface().(Map)
		return e.jsMap(&x)
	case reflect.TypeFor[Set]():
		x := rv.Interface().(Set)
		return e.jsSet(&x)
	case reflect.TypeFor[SparseArray]():
		x := rv.Interface().(SparseArray)
		return e.sparse(&x)
	}
	fields := cachedFields(rv.Type())
	e.object()
	e.byte(tagObject)
	n := 0
	for i := range fields {
		f := &fields[i]
		fv, ok := fieldByIndex(rv, f.index)
		if !ok || f.omitEmpty && isEmpty(fv) {
			continue
		}
		e.key(f.name)
		if f.quoted {
			if err := e.quotedValue(fv); err != nil {
				return err
			}
		} else if err := e.reflectValue(fv); err != nil {
			return err
		}
		n++
	}
	e.byte(tagObjectEnd)
	e.varint(uint64(n))
	return nil
}

// quotedValue writes a field tagged ",string" as encoding/json does: the
// number or bool as a string.
func (e *v8encoder) quotedValue(fv reflect.Value) error {
	switch fv.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		b, err := json.Marshal(fv.Interface())
		if err != nil {
			return notSerializable("%v", err)
		}
		e.str(string(b))
		return nil
	}
	return e.reflectValue(fv)
}

// fieldByIndex is rv.FieldByIndex, except that a nil embedded pointer
// gives ok == false rather than a panic.
func fieldByIndex(rv reflect.Value, index []int) (reflect.Value, bool) {
	for i, x := range index {
		if i > 0 && rv.Kind() == reflect.Pointer {
			if rv.IsNil() {
				return reflect.Value{}, false
			}
			rv = rv.Elem()
		}
		rv = rv.Field(x)
	}
	return rv, true
}

func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Interface, reflect.Pointer:
		return v.IsZero()
	}
	return false
}

// A field is a struct field as encoding/json sees it.
type field struct {
	name      string
	index     []int
	omitEmpty bool
	quoted    bool
	tagged    bool
}

var fieldCache sync.Map // reflect.Type → []field

// cachedFields returns the fields of struct type t that encoding/json
// would encode, by the same rules: exported fields, named by their json
// tag, "-" left out, embedded structs' fields promoted (the shallowest
// wins, a tagged one among equals, and equals without one cancel out).
func cachedFields(t reflect.Type) []field {
	if f, ok := fieldCache.Load(t); ok {
		return f.([]field)
	}
	f := typeFields(t)
	fieldCache.Store(t, f)
	return f
}

func typeFields(t reflect.Type) []field {
	var all []field
	visited := map[reflect.Type]bool{}
	var walk func(t reflect.Type, index []int)
	walk = func(t reflect.Type, index []int) {
		if visited[t] {
			return
		}
		visited[t] = true
		defer delete(visited, t)
		for i := 0; i < t.NumField(); i++ {
			sf := t.Field(i)
			tag := sf.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			ft := sf.Type
			if sf.Anonymous {
				if ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if name == "" && ft.Kind() == reflect.Struct {
					walk(ft, append(slices.Clone(index), i))
					continue
				}
				if !sf.IsExported() && ft.Kind() != reflect.Struct {
					continue
				}
			} else if !sf.IsExported() {
				continue
			}
			f := field{name: name, index: append(slices.Clone(index), i), tagged: name != ""}
			if name == "" {
				f.name = sf.Name
			}
			for _, o := range strings.Split(opts, ",") {
				f.omitEmpty = f.omitEmpty || o == "omitempty"
				f.quoted = f.quoted || o == "string"
			}
			all = append(all, f)
		}
	}
	walk(t, nil)
	// Dominance: for each name, the shallowest fields; among them the
	// tagged one; two or more left means none.
	byName := map[string][]field{}
	var order []string
	for _, f := range all {
		if _, ok := byName[f.name]; !ok {
			order = append(order, f.name)
		}
		byName[f.name] = append(byName[f.name], f)
	}
	var out []field
	for _, name := range order {
		if f, ok := dominant(byName[name]); ok {
			out = append(out, f)
		}
	}
	slices.SortStableFunc(out, func(a, b field) int { return slices.Compare(a.index, b.index) })
	return out
}

func dominant(fs []field) (field, bool) {
	depth := len(fs[0].index)
	for _, f := range fs {
		depth = min(depth, len(f.index))
	}
	var best []field
	for _, f := range fs {
		if len(f.index) == depth {
			best = append(best, f)
		}
	}
	if len(best) == 1 {
		return best[0], true
	}
	var tagged []field
	for _, f := range best {
		if f.tagged {
			tagged = append(tagged, f)
		}
	}
	if len(tagged) == 1 {
		return tagged[0], true
	}
	return field{}, false
}

// appendAdvanced appends the payload of v (header and value) to dst.
func appendAdvanced(dst []byte, base int, firstID uint32, v any) ([]byte, error) {
	e := v8encoders.Get().(*v8encoder)
	e.buf, e.base, e.next, e.seen, e.depth, e.errs, e.bad = dst, base, firstID, e.seen[:0], 0, e.errs[:0], nil
	err := e.value(v)
	out := e.buf
	e.buf = nil
	clear(e.seen)
	e.more = nil
	v8encoders.Put(e)
	return out, err
}
