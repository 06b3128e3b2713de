package ipc

import (
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"strconv"
	"strings"
)

// unmarshalAdvanced decodes payload into v, a non-nil pointer: into an
// any, the decoded value as it is; into other types, converted as
// encoding/json converts JSON values (structs by field name or json tag,
// matched exactly or else without regard to case).
func unmarshalAdvanced(payload []byte, v any) error {
	if raw, ok := v.(*RawValue); ok {
		if err := checkAdvanced(payload); err != nil {
			return err
		}
		*raw = append((*raw)[:0], payload...)
		return nil
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return &json.InvalidUnmarshalError{Type: reflect.TypeOf(v)}
	}
	if p, ok := v.(*any); ok {
		x, err := decodeAdvanced(payload)
		if err == nil {
			*p = x
		}
		return err
	}
	d := decoder{data: payload}
	if err := d.header(); err != nil {
		return err
	}
	a := assigner{memo: map[memoKey]reflect.Value{}, open: map[uintptr]bool{}, left: expansion*len(payload) + 4096}
	err := d.into(rv.Elem(), &a, "")
	if err != errIndirect {
		return err
	}
	// A back-reference to an object decoded straight into a Go value:
	// decode the whole message, then convert it.
	x, err := decodeAdvanced(payload)
	if err != nil {
		return err
	}
	return a.assign(rv.Elem(), x, "")
}

// directObject stands, in a decoder's id table, for an object decoded
// straight into a Go value, or skipped.
type directObject struct{}

// errIndirect reports a back-reference to a directObject.
var errIndirect = errors.New("reference to an object decoded into a Go value")

// jsStructs are the struct types that stand for JavaScript types of their
// own, which are not decoded from an object's properties.
var jsStructs = map[reflect.Type]bool{
	timeType: true, bigIntType: true, reflect.TypeFor[Map](): true, reflect.TypeFor[Set](): true,
	reflect.TypeFor[JSError](): true, reflect.TypeFor[SparseArray](): true, reflect.TypeFor[RegExp](): true,
}

// into decodes the next value straight into dst where it can (objects
// into structs, primitives into their kinds), without building the
// value first, and otherwise decodes it and converts it.
func (d *decoder) into(dst reflect.Value, a *assigner, field string) error {
	t, err := d.peek()
	if err != nil {
		return err
	}
	k := dst.Kind()
	switch {
	case unmarshals(dst):
	case t == tagObject && k == reflect.Struct && !jsStructs[dst.Type()]:
		d.pos++
		return d.intoStruct(dst, a, field)
	case t == tagObject && k == reflect.Pointer && dst.Type().Elem().Kind() == reflect.Struct && !jsStructs[dst.Type().Elem()]:
		if dst.IsNil() {
			dst.Set(reflect.New(dst.Type().Elem()))
		}
		d.pos++
		return d.intoStruct(dst.Elem(), a, field)
	case (t == tagOneByte || t == tagTwoByte || t == tagUTF8) && k == reflect.String:
		d.pos++
		s, err := d.stringBody(t)
		dst.SetString(s)
		return err
	}
	x, err := d.value()
	if err != nil {
		return err
	}
	return a.assign(dst, x, field)
}

var (
	jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// unmarshals reports whether dst decodes itself (json.Unmarshaler, or
// encoding.TextUnmarshaler from a string), as encoding/json lets it,
// short of the types the advanced mode has its own values for.
func unmarshals(dst reflect.Value) bool {
	if jsStructs[dst.Type()] || dst.Kind() == reflect.Pointer && jsStructs[dst.Type().Elem()] || !dst.CanAddr() {
		return false
	}
	pt := dst.Addr().Type()
	return pt.Implements(jsonUnmarshalerType) || pt.Implements(textUnmarshalerType)
}

// unmarshalJSON gives a decoded value to dst's own UnmarshalJSON, as
// JSON, or to its UnmarshalText when it is a string.
func unmarshalJSON(dst reflect.Value, x any) error {
	if tu, ok := dst.Addr().Interface().(encoding.TextUnmarshaler); ok {
		if s, isString := x.(string); isString {
			return tu.UnmarshalText([]byte(s))
		}
		if _, isJSON := dst.Addr().Interface().(json.Unmarshaler); !isJSON {
			return typeError(x, dst.Type(), "")
		}
	}
	text, err := json.Marshal(x)
	if err != nil {
		return &json.UnmarshalTypeError{Value: jsType(x), Type: dst.Type()}
	}
	return dst.Addr().Interface().(json.Unmarshaler).UnmarshalJSON(text)
}

// intoStruct decodes an object's properties into the fields of a struct.
func (d *decoder) intoStruct(dst reflect.Value, a *assigner, field string) error {
	d.depth++
	defer func() { d.depth-- }()
	if d.depth > maxDepth {
		return d.fail("nested too deeply")
	}
	d.objs = append(d.objs, directObject{})
	fields := cachedFields(dst.Type())
	var n uint32
	for {
		t, err := d.peek()
		if err != nil {
			return err
		}
		if t == tagObjectEnd {
			d.pos++
			return d.expect(n, "property")
		}
		key, err := d.objectKey()
		if err != nil {
			return err
		}
		n++
		f := fieldNamed(fields, key)
		if f == nil {
			if err := d.skip(); err != nil {
				return err
			}
			continue
		}
		fv, err := fieldForSet(dst, f.index)
		if err != nil {
			return err
		}
		if err := d.into(fv, a, joinField(field, f.name)); err != nil {
			return err
		}
	}
}

// skip reads a value no field takes, checking it and building nothing.
func (d *decoder) skip() error {
	d.check = true
	_, err := d.value()
	d.check = false
	return err
}

// fieldNamed returns the field a key names: exactly, or else without
// regard to case.
func fieldNamed(fields []field, key string) *field {
	for i := range fields {
		if fields[i].name == key {
			return &fields[i]
		}
	}
	for i := range fields {
		if strings.EqualFold(fields[i].name, key) {
			return &fields[i]
		}
	}
	return nil
}

// An assigner converts decoded values to Go types, remembering the
// pointers it made for each decoded object, so that a cycle in the
// message becomes a cycle of pointers. A cycle into Go types that
// cannot hold one (a map of maps, a slice of slices) is an error, found
// by the objects open on the way down. It makes at most left values: an
// object referred to twice is copied twice into such types, so shared
// references could grow a message exponentially.
type assigner struct {
	memo map[memoKey]reflect.Value
	open map[uintptr]bool
	left int
}

// expansion bounds the values an assigner makes, per byte of the message.
const expansion = 64

type memoKey struct {
	p uintptr
	t reflect.Type
}

// identity returns the address of a decoded object, or 0 for a value
// that is not one.
func identity(x any) uintptr {
	switch x.(type) {
	case map[string]any, *Map, *Set, *SparseArray, *JSError:
		return reflect.ValueOf(x).Pointer()
	case []any:
		if v := reflect.ValueOf(x); v.Len() > 0 {
			return uintptr(v.UnsafePointer())
		}
	}
	return 0
}

// jsType names the JavaScript type of a decoded value, for errors.
func jsType(x any) string {
	switch x.(type) {
	case nil:
		return "null"
	case Undefined:
		return "undefined"
	case bool:
		return "boolean"
	case float64:
		return "number"
	case string:
		return "string"
	case *big.Int:
		return "bigint"
	case map[string]any:
		return "object"
	case []any, *SparseArray:
		return "array"
	case *Map:
		return "Map"
	case *Set:
		return "Set"
	case *JSError:
		return "Error"
	case RegExp:
		return "RegExp"
	case ArrayBuffer:
		return "ArrayBuffer"
	}
	if reflect.TypeOf(x).Kind() == reflect.Slice {
		return "typed array"
	}
	return "Date"
}

func typeError(x any, t reflect.Type, field string) error {
	return &json.UnmarshalTypeError{Value: jsType(x), Type: t, Field: field}
}

func (a *assigner) assign(dst reflect.Value, x any, field string) error {
	t := dst.Type()
	if a.left--; a.left < 0 {
		return fmt.Errorf("ipc: advanced message too large once copied into %v at %q: objects it shares copied into Go types that cannot share them", t, field)
	}
	if id := identity(x); id != 0 && t.Kind() != reflect.Pointer && t.Kind() != reflect.Interface {
		if a.open[id] {
			return fmt.Errorf("ipc: advanced message holds a cycle at %q, which %v cannot hold (a pointer can)", field, t)
		}
		a.open[id] = true
		defer delete(a.open, id)
	}
	switch x.(type) {
	case nil, Undefined:
		switch dst.Kind() {
		case reflect.Interface, reflect.Pointer, reflect.Map, reflect.Slice:
			dst.SetZero()
		}
		return nil
	}
	xt := reflect.TypeOf(x)
	if xt == t {
		dst.Set(reflect.ValueOf(x))
		return nil
	}
	if unmarshals(dst) {
		return unmarshalJSON(dst, x)
	}
	switch dst.Kind() {
	case reflect.Interface:
		if !xt.Implements(t) {
			return typeError(x, t, field)
		}
		dst.Set(reflect.ValueOf(x))
		return nil
	case reflect.Pointer:
		return a.pointer(dst, x, field)
	}
	if xt.Kind() == reflect.Pointer && xt.Elem() == t { // *Map into Map, *big.Int into big.Int
		dst.Set(reflect.ValueOf(x).Elem())
		return nil
	}
	switch x := x.(type) {
	case bool:
		if dst.Kind() == reflect.Bool {
			dst.SetBool(x)
			return nil
		}
	case string:
		if dst.Kind() == reflect.String {
			dst.SetString(x)
			return nil
		}
	case float64:
		return a.number(dst, x, field)
	case *big.Int:
		if x.IsInt64() {
			return a.number(dst, float64(x.Int64()), field)
		}
	case map[string]any:
		return a.object(dst, x, field)
	case []any:
		return a.list(dst, len(x), func(i int) any { return x[i] }, field)
	case *Set:
		return a.list(dst, len(x.Values), func(i int) any { return x.Values[i] }, field)
	case *SparseArray:
		if uint64(x.Length) <= 2*uint64(len(x.Elems))+1024 {
			return a.list(dst, int(x.Length), func(i int) any { return x.Elems[uint32(i)] }, field)
		}
	case *Map:
		if dst.Kind() == reflect.Map {
			return a.mapEntries(dst, x, field)
		}
	}
	if xv := reflect.ValueOf(x); xv.Kind() == reflect.Slice && (dst.Kind() == reflect.Slice || dst.Kind() == reflect.Array) {
		return a.list(dst, xv.Len(), func(i int) any { return xv.Index(i).Interface() }, field)
	}
	switch xt.Kind() {
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint8, reflect.Uint16,
		reflect.Uint32, reflect.Uint64, reflect.Float32: // a typed array's element
		return a.number(dst, reflectNumber(reflect.ValueOf(x)), field)
	}
	if reflect.ValueOf(x).CanConvert(t) && xt.Kind() == t.Kind() {
		dst.Set(reflect.ValueOf(x).Convert(t))
		return nil
	}
	return typeError(x, t, field)
}

func (a *assigner) pointer(dst reflect.Value, x any, field string) error {
	key := memoKey{identity(x), dst.Type()}
	if key.p != 0 {
		if p, ok := a.memo[key]; ok {
			dst.Set(p)
			return nil
		}
	}
	if dst.IsNil() {
		dst.Set(reflect.New(dst.Type().Elem()))
	}
	if key.p != 0 {
		a.memo[key] = dst
	}
	return a.assign(dst.Elem(), x, field)
}

func (a *assigner) number(dst reflect.Value, f float64, field string) error {
	switch dst.Kind() {
	case reflect.Float32, reflect.Float64:
		dst.SetFloat(f)
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if f == math.Trunc(f) && f >= -1<<63 && f < 1<<63 && !dst.OverflowInt(int64(f)) {
			dst.SetInt(int64(f))
			return nil
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if f == math.Trunc(f) && f >= 0 && f < 1<<64 && !dst.OverflowUint(uint64(f)) {
			dst.SetUint(uint64(f))
			return nil
		}
	}
	return &json.UnmarshalTypeError{Value: "number " + strconv.FormatFloat(f, 'g', -1, 64), Type: dst.Type(), Field: field}
}

func (a *assigner) object(dst reflect.Value, m map[string]any, field string) error {
	switch dst.Kind() {
	case reflect.Struct:
		for _, f := range cachedFields(dst.Type()) {
			v, ok := m[f.name]
			if !ok {
				for k, kv := range m {
					if strings.EqualFold(k, f.name) {
						v, ok = kv, true
						break
					}
				}
			}
			if !ok {
				continue
			}
			fv, err := fieldForSet(dst, f.index)
			if err != nil {
				return err
			}
			if err := a.assign(fv, v, joinField(field, f.name)); err != nil {
				return err
			}
		}
		return nil
	case reflect.Map:
		if dst.IsNil() {
			dst.Set(reflect.MakeMapWithSize(dst.Type(), len(m)))
		}
		for k, v := range m {
			key := reflect.New(dst.Type().Key()).Elem()
			if err := a.mapKey(key, k, field); err != nil {
				return err
			}
			val := reflect.New(dst.Type().Elem()).Elem()
			if err := a.assign(val, v, joinField(field, k)); err != nil {
				return err
			}
			dst.SetMapIndex(key, val)
		}
		return nil
	}
	return typeError(m, dst.Type(), field)
}

// mapKey converts an object's key to a Go map's key type.
func (a *assigner) mapKey(key reflect.Value, k, field string) error {
	switch key.Kind() {
	case reflect.String:
		key.SetString(k)
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if n, err := strconv.ParseInt(k, 10, 64); err == nil && !key.OverflowInt(n) {
			key.SetInt(n)
			return nil
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if n, err := strconv.ParseUint(k, 10, 64); err == nil && !key.OverflowUint(n) {
			key.SetUint(n)
			return nil
		}
	}
	return &json.UnmarshalTypeError{Value: "object key " + strconv.Quote(k), Type: key.Type(), Field: field}
}

func (a *assigner) mapEntries(dst reflect.Value, m *Map, field string) error {
	if dst.IsNil() {
		dst.Set(reflect.MakeMapWithSize(dst.Type(), len(m.Entries)))
	}
	for _, e := range m.Entries {
		key := reflect.New(dst.Type().Key()).Elem()
		if err := a.assign(key, e.Key, field); err != nil {
			return err
		}
		if !key.Comparable() {
			return typeError(e.Key, dst.Type().Key(), field)
		}
		val := reflect.New(dst.Type().Elem()).Elem()
		if err := a.assign(val, e.Value, field); err != nil {
			return err
		}
		dst.SetMapIndex(key, val)
	}
	return nil
}

// list fills a Go slice or array with n elements.
func (a *assigner) list(dst reflect.Value, n int, at func(int) any, field string) error {
	switch dst.Kind() {
	case reflect.Slice:
		dst.Set(reflect.MakeSlice(dst.Type(), n, n))
	case reflect.Array:
		n = min(n, dst.Len())
	default:
		return &json.UnmarshalTypeError{Value: "array", Type: dst.Type(), Field: field}
	}
	for i := 0; i < n; i++ {
		if err := a.assign(dst.Index(i), at(i), field); err != nil {
			return err
		}
	}
	return nil
}

// fieldForSet returns the field at index, allocating the embedded
// pointers on the way.
func fieldForSet(v reflect.Value, index []int) (reflect.Value, error) {
	for i, x := range index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				if !v.CanSet() {
					return reflect.Value{}, &json.UnmarshalTypeError{Value: "object", Type: v.Type()}
				}
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v, nil
}

func joinField(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}
