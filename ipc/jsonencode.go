package ipc

import (
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// appendFast appends the JSON text of v as AppendFrame's encoder writes
// it (encoding/json without HTML escaping, U+2028 and U+2029 raw), and
// reports whether it did. It takes the values IPC messages mostly are
// (plain structs, maps with string keys, slices, pointers, interfaces,
// booleans, numbers, and strings that need no escape) without
// encoding/json's per-value work; FuzzAppendFast checks the bytes are
// the same, with and without GOEXPERIMENT=jsonv2. For anything else (a
// type with its own encoding, a map key type with its own text, a tag
// option but omitempty, a string with an escape, NaN, a deep or cyclic
// value) it reports false and leaves dst as it was.
func appendFast(dst []byte, v any) ([]byte, bool) {
	if v == nil {
		return dst, false
	}
	rv := reflect.ValueOf(v)
	out, ok := appendValue(dst, rv, encPlanOf(rv.Type()), 0)
	if !ok {
		return dst, false
	}
	return out, true
}

// maxFastDepth bounds the nesting appendFast writes: deeper values, and
// cycles, are encoding/json's.
const maxFastDepth = 32

// appendValue writes v, whose plan is p.
func appendValue(b []byte, v reflect.Value, p *encPlan, depth int) ([]byte, bool) {
	if depth > maxFastDepth {
		return b, false
	}
	switch p.kind {
	case fastBool:
		return strconv.AppendBool(b, v.Bool()), true
	case fastInt:
		return strconv.AppendInt(b, v.Int(), 10), true
	case fastUint:
		return strconv.AppendUint(b, v.Uint(), 10), true
	case fastFloat:
		return appendFloat(b, v.Float(), v.Type().Bits())
	case fastString:
		s := v.String()
		if !plainString(s) {
			return b, false
		}
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"'), true
	case fastPointer, fastAny:
		if v.IsNil() {
			return append(b, "null"...), true
		}
		e := v.Elem()
		return appendValue(b, e, encPlanOf(e.Type()), depth+1)
	case fastSlice:
		return appendSlice(b, v, depth)
	case fastMap:
		return appendMap(b, v, depth)
	case fastStruct:
		return appendStruct(b, v, p, depth)
	}
	return b, false
}

// appendFloat writes f as encoding/json does: the shortest text that
// reads back as f, in exponent form below 1e-6 and from 1e21.
func appendFloat(b []byte, f float64, bits int) ([]byte, bool) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return b, false
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	b = strconv.AppendFloat(b, f, format, -1, bits)
	if n := len(b); format == 'e' && n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
		b[n-2] = b[n-1] // e-07 is written e-7
		b = b[:n-1]
	}
	return b, true
}

func appendSlice(b []byte, v reflect.Value, depth int) ([]byte, bool) {
	if v.IsNil() {
		return append(b, "null"...), true
	}
	p := encPlanOf(v.Type().Elem())
	b = append(b, '[')
	for i := range v.Len() {
		if i > 0 {
			b = append(b, ',')
		}
		var ok bool
		if b, ok = appendValue(b, v.Index(i), p, depth+1); !ok {
			return b, false
		}
	}
	return append(b, ']'), true
}

// appendMap writes a map with string keys, in the order of its keys as
// encoding/json sorts them.
func appendMap(b []byte, v reflect.Value, depth int) ([]byte, bool) {
	if v.IsNil() {
		return append(b, "null"...), true
	}
	p := encPlanOf(v.Type().Elem())
	keys := v.MapKeys()
	slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
	b = append(b, '{')
	for i, k := range keys {
		if !plainString(k.String()) {
			return b, false
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, k.String()...)
		b = append(b, '"', ':')
		var ok bool
		if b, ok = appendValue(b, v.MapIndex(k), p, depth+1); !ok {
			return b, false
		}
	}
	return append(b, '}'), true
}

func appendStruct(b []byte, v reflect.Value, p *encPlan, depth int) ([]byte, bool) {
	b = append(b, '{')
	first := true
	for _, f := range p.fields {
		fv := v.Field(f.index)
		if f.omitEmpty && isEmpty(fv) {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, f.key...)
		var ok bool
		if b, ok = appendValue(b, fv, f.plan, depth+1); !ok {
			return b, false
		}
	}
	return append(b, '}'), true
}

// An encPlan is how appendFast encodes one type: its kind (fastNone for
// the types it leaves to encoding/json) and a struct's fields in order.
type encPlan struct {
	kind   fastKind
	fields []encField
}

// An encField is a struct field appendFast writes.
type encField struct {
	index     int
	key       string // the name as JSON, with its quotes and ':'
	omitEmpty bool
	plan      *encPlan
}

var encPlans planCache[encPlan]

func encPlanOf(t reflect.Type) *encPlan { return encPlans.of(t, makeEncPlan) }

func makeEncPlan(t reflect.Type) *encPlan {
	if t == numberType || implements(t, selfEncoders) {
		return &encPlan{}
	}
	if k := scalarKind(t.Kind()); k != fastNone {
		return &encPlan{kind: k}
	}
	switch t.Kind() {
	case reflect.Interface:
		return &encPlan{kind: fastAny}
	case reflect.Pointer:
		return &encPlan{kind: fastPointer}
	case reflect.Slice:
		if t.Elem().Kind() != reflect.Uint8 { // bytes are base64
			return &encPlan{kind: fastSlice}
		}
	case reflect.Map:
		// encoding/json writes a key of kind string as it is, but
		// with GOEXPERIMENT=jsonv2 it writes the key's own text.
		if t.Key().Kind() == reflect.String && !implements(t.Key(), selfEncoders) {
			return &encPlan{kind: fastMap}
		}
	case reflect.Struct:
		return structEncPlan(t)
	}
	return &encPlan{}
}

// structEncPlan lists t's fields as encoding/json writes them, for the
// structs plainFields takes.
func structEncPlan(t reflect.Type) *encPlan {
	p := &encPlan{kind: fastStruct}
	plain := plainFields(t, func(i int, name string, omitEmpty bool) {
		p.fields = append(p.fields, encField{index: i, key: `"` + name + `":`,
			omitEmpty: omitEmpty, plan: encPlanOf(t.Field(i).Type)})
	})
	if !plain {
		return &encPlan{}
	}
	return p
}
