package ipc

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// decodeFast decodes the JSON text data into the value v points to, as
// json.Unmarshal would, and reports whether it did. It takes the values
// IPC messages mostly are (objects into plain structs and maps, numbers,
// strings, booleans, slices, json.RawMessage and the empty interface) at
// a fraction of json.Unmarshal's cost, which on a busy channel is most of
// a message's; FuzzDecodeFast checks the two agree.
//
// It reports false for anything else: a destination with its own
// decoding (json.Unmarshaler, encoding.TextUnmarshaler), embedded fields
// or ",string" tags, pointers that lead back to themselves, a value
// json.Unmarshal would refuse, a key that is not ASCII and names no field
// exactly, a json.RawMessage whose array holds the text. By then it may
// have stored the members before that point, each as json.Unmarshal
// stores it, so that json.Unmarshal decoding the whole text again ends
// with the same value. For that it never points a pointer, map, slice or
// json.RawMessage that was set away from what it pointed to, which
// another part of v may share (json.Unmarshal decoding again would write
// through that part only): it reports false instead.
func decodeFast(data []byte, v any) bool {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || !validJSON(data) {
		return false
	}
	d := jsonDecoder{validator: validator{data: data}}
	d.space()
	return d.value(rv.Elem(), planOf(rv.Type().Elem()))
}

// A jsonDecoder walks JSON text that is known to be valid.
type jsonDecoder struct{ validator }

// value decodes the value at d.i into v, whose plan is p.
func (d *jsonDecoder) value(v reflect.Value, p *plan) bool {
	switch p.kind {
	case fastNone:
		return false
	case fastRaw:
		start := d.i
		d.validator.value(0)
		raw := d.data[start:d.i]
		if c := v.Cap(); c > 0 && (len(raw) > c || holds(v, d.data)) {
			// Moving it off its array would leave behind another that
			// shares it; writing into the text would change what is
			// decoded next.
			return false
		}
		v.SetBytes(append(v.Bytes()[:0], raw...))
		return true
	case fastAny:
		if !v.IsNil() {
			return false // json.Unmarshal may decode into what it holds
		}
	}
	if d.data[d.i] == 'n' {
		d.i += len("null")
		switch p.kind {
		case fastPointer, fastSlice, fastMap:
			// null would set it to nil. What it points to may also be
			// reached through another part of v, which json.Unmarshal,
			// decoding again after a later refusal, would then write
			// where this one no longer does: leave that to it.
			return v.IsNil()
		}
		return true // other kinds keep their value; an empty interface is nil here
	}
	c := d.data[d.i]
	switch p.kind {
	case fastPointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		return d.value(v.Elem(), planOf(v.Type().Elem()))
	case fastAny:
		x, ok := d.anyValue()
		if ok {
			v.Set(reflect.ValueOf(x))
		}
		return ok
	case fastStruct:
		return c == '{' && d.structValue(v, p)
	case fastMap:
		return c == '{' && d.mapValue(v)
	case fastSlice:
		return c == '[' && d.sliceValue(v)
	case fastString:
		if c != '"' {
			return false
		}
		s, ok := d.str()
		if ok {
			v.SetString(s)
		}
		return ok
	case fastBool:
		if c != 't' && c != 'f' {
			return false
		}
		d.validator.value(0)
		v.SetBool(c == 't')
		return true
	}
	return (c == '-' || c >= '0' && c <= '9') && d.number(v, p.kind)
}

// number decodes the number at d.i into v, whose kind is fastInt,
// fastUint or fastFloat.
func (d *jsonDecoder) number(v reflect.Value, kind fastKind) bool {
	start := d.i
	d.validator.number()
	text := d.data[start:d.i]
	switch kind {
	case fastInt:
		n, ok := parseInt(text)
		if !ok || v.OverflowInt(n) {
			return false
		}
		v.SetInt(n)
	case fastUint:
		n, ok := parseUint(text)
		if !ok || v.OverflowUint(n) {
			return false
		}
		v.SetUint(n)
	case fastFloat:
		f, err := strconv.ParseFloat(string(text), v.Type().Bits())
		if err != nil || v.OverflowFloat(f) {
			return false
		}
		v.SetFloat(f)
	}
	return true
}

// structValue decodes the object at d.i into the struct v.
func (d *jsonDecoder) structValue(v reflect.Value, p *plan) bool {
	return d.members(func(key []byte) bool {
		f := p.fields[string(key)]
		if f == nil {
			if !isASCII(key) {
				return false // it may fold to a name: the Kelvin sign folds to 'k'
			}
			var buf [32]byte
			f = p.folded[string(appendUpper(buf[:0], key))]
		}
		if f == nil {
			d.validator.value(0)
			return true
		}
		return d.value(v.Field(f.index), f.plan)
	})
}

// mapValue decodes the object at d.i into the map v, whose keys are
// strings: each member's value is decoded into a new element.
func (d *jsonDecoder) mapValue(v reflect.Value) bool {
	t := v.Type()
	if v.IsNil() {
		v.Set(reflect.MakeMap(t))
	}
	elem := reflect.New(t.Elem()).Elem()
	p := planOf(t.Elem())
	return d.members(func(key []byte) bool {
		elem.SetZero()
		if !d.value(elem, p) {
			return false
		}
		k := reflect.New(t.Key()).Elem()
		k.SetString(string(key))
		v.SetMapIndex(k, elem)
		return true
	})
}

// sliceValue decodes the array at d.i into the slice v, reusing its
// elements as json.Unmarshal does. It refuses to point a slice that had
// elements (which another may share) to new ones, by growing it or
// emptying it.
func (d *jsonDecoder) sliceValue(v reflect.Value) bool {
	n := 0
	p := planOf(v.Type().Elem())
	had := v.Cap() > 0
	ok := d.elements(func() bool {
		if n >= v.Cap() {
			if had {
				return false
			}
			v.Grow(1)
		}
		if n >= v.Len() {
			v.SetLen(n + 1)
		}
		n++
		return d.value(v.Index(n-1), p)
	})
	if !ok || n == 0 && had {
		return false
	}
	if n < v.Len() {
		v.SetLen(n)
	}
	if n == 0 {
		v.Set(reflect.MakeSlice(v.Type(), 0, 0))
	}
	return true
}

// holds reports whether the array of the byte slice v holds bytes of
// text.
func holds(v reflect.Value, text []byte) bool {
	start := reflect.ValueOf(text).Pointer()
	return v.Pointer() < start+uintptr(len(text)) && start < v.Pointer()+uintptr(v.Cap())
}

// anyValue decodes the value at d.i as json.Unmarshal decodes into an
// empty interface.
func (d *jsonDecoder) anyValue() (any, bool) {
	switch c := d.data[d.i]; c {
	case '{':
		m := make(map[string]any)
		ok := d.members(func(key []byte) bool {
			x, ok := d.anyValue()
			m[string(key)] = x
			return ok
		})
		return m, ok
	case '[':
		a := make([]any, 0)
		ok := d.elements(func() bool {
			x, ok := d.anyValue()
			a = append(a, x)
			return ok
		})
		return a, ok
	case '"':
		return d.str()
	case 't', 'f':
		d.validator.value(0)
		return c == 't', true
	case 'n':
		d.i += len("null")
		return nil, true
	}
	start := d.i
	d.validator.number()
	f, err := strconv.ParseFloat(string(d.data[start:d.i]), 64)
	return f, err == nil
}

// members walks the object at d.i, calling each with every member's
// unquoted key and d.i at its value, which each consumes. It stops at
// the first false.
func (d *jsonDecoder) members(each func(key []byte) bool) bool {
	d.i++ // '{'
	d.space()
	if d.data[d.i] == '}' {
		d.i++
		return true
	}
	for {
		start := d.i
		d.validator.str()
		key, ok := unquote(d.data[start:d.i])
		d.space()
		d.i++ // ':'
		d.space()
		if !ok || !each(key) {
			return false
		}
		d.space()
		d.i++ // ',' or '}'
		if d.data[d.i-1] == '}' {
			return true
		}
		d.space()
	}
}

// elements walks the array at d.i, calling each with d.i at every
// element, which each consumes. It stops at the first false.
func (d *jsonDecoder) elements(each func() bool) bool {
	d.i++ // '['
	d.space()
	if d.data[d.i] == ']' {
		d.i++
		return true
	}
	for {
		if !each() {
			return false
		}
		d.space()
		d.i++ // ',' or ']'
		if d.data[d.i-1] == ']' {
			return true
		}
		d.space()
	}
}

// str decodes the string at d.i.
func (d *jsonDecoder) str() (string, bool) {
	start := d.i
	d.validator.str()
	s, ok := unquote(d.data[start:d.i])
	return string(s), ok
}

// unquote returns the text of the JSON string quoted. Escapes and bytes
// that are not UTF-8 (which json.Unmarshal replaces) are left to
// json.Unmarshal, which rarely runs here.
func unquote(quoted []byte) ([]byte, bool) {
	text := quoted[1 : len(quoted)-1]
	if bytes.IndexByte(text, '\\') < 0 && utf8.Valid(text) {
		return text, true
	}
	var s string
	if json.Unmarshal(quoted, &s) != nil {
		return nil, false
	}
	return []byte(s), true
}

// parseInt parses an integer as strconv.ParseInt(text, 10, 64) does,
// reporting false for a fraction or an exponent.
func parseInt(text []byte) (int64, bool) {
	digits := text
	if digits[0] == '-' {
		digits = digits[1:]
	}
	if len(digits) > 18 { // may not fit: let strconv decide
		n, err := strconv.ParseInt(string(text), 10, 64)
		return n, err == nil
	}
	var n int64
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if text[0] == '-' {
		n = -n
	}
	return n, true
}

// parseUint parses an integer as strconv.ParseUint(text, 10, 64) does.
func parseUint(text []byte) (uint64, bool) {
	if len(text) > 19 {
		n, err := strconv.ParseUint(string(text), 10, 64)
		return n, err == nil
	}
	var n uint64
	for _, c := range text {
		if c < '0' || c > '9' {
			return 0, false // a sign, a fraction or an exponent
		}
		n = n*10 + uint64(c-'0')
	}
	return n, true
}

// A fastKind is how decodeFast decodes into a type.
type fastKind uint8

const (
	fastNone    fastKind = iota // left to json.Unmarshal
	fastBool                    // bool kinds
	fastInt                     // signed integer kinds
	fastUint                    // unsigned integer kinds
	fastFloat                   // float kinds
	fastString                  // string kinds
	fastRaw                     // json.RawMessage
	fastAny                     // empty interfaces
	fastPointer                 // pointers to any type
	fastSlice                   // slices, but of bytes (base64 in JSON)
	fastMap                     // maps with string keys
	fastStruct                  // structs without embedded fields
)

// A plan is how decodeFast decodes into one type.
type plan struct {
	kind fastKind

	// A struct's fields by JSON name, and by that name in upper case
	// (as encoding/json folds ASCII names) for keys that name no field
	// exactly: the first field of each folded name.
	fields, folded map[string]*fastField
}

// A fastField is a struct field decodeFast may decode into.
type fastField struct {
	index int
	plan  *plan
}

var plans planCache[plan]

func planOf(t reflect.Type) *plan { return plans.of(t, makePlan) }

// A planCache holds one plan per type, made the first time the type is
// asked for (by both, when two goroutines ask at once; one plan is kept).
type planCache[P any] struct {
	m sync.Map // reflect.Type → *P
}

func (c *planCache[P]) of(t reflect.Type, build func(reflect.Type) *P) *P {
	if p, ok := c.m.Load(t); ok {
		return p.(*P)
	}
	p, _ := c.m.LoadOrStore(t, build(t))
	return p.(*P)
}

var (
	rawMessageType = reflect.TypeFor[json.RawMessage]()
	numberType     = reflect.TypeFor[json.Number]()
)

func makePlan(t reflect.Type) *plan {
	if t == rawMessageType {
		return &plan{kind: fastRaw}
	}
	if t == numberType || implements(t, selfDecoders) {
		return &plan{}
	}
	if k := scalarKind(t.Kind()); k != fastNone {
		return &plan{kind: k}
	}
	switch t.Kind() {
	case reflect.Interface:
		if t.NumMethod() == 0 {
			return &plan{kind: fastAny}
		}
	case reflect.Pointer:
		if !endless(t) {
			return &plan{kind: fastPointer}
		}
	case reflect.Slice:
		if t.Elem().Kind() != reflect.Uint8 {
			return &plan{kind: fastSlice}
		}
	case reflect.Map:
		if t.Key().Kind() == reflect.String && !implements(t.Key(), selfDecoders) {
			return &plan{kind: fastMap}
		}
	case reflect.Struct:
		return structPlan(t)
	}
	return &plan{}
}

// endless reports whether the chain of pointers from the pointer type t
// comes back to a type on it (as in type P *P), so that json.Unmarshal
// follows it forever.
func endless(t reflect.Type) bool {
	seen := make(map[reflect.Type]bool)
	for ; t.Kind() == reflect.Pointer; t = t.Elem() {
		if seen[t] {
			return true
		}
		seen[t] = true
	}
	return false
}

// implements reports whether t, or a pointer to it, has one of the
// interfaces ifaces: the ways encoding/json lets a type encode or decode
// itself.
func implements(t reflect.Type, ifaces []reflect.Type) bool {
	pt := reflect.PointerTo(t)
	return slices.ContainsFunc(ifaces, func(i reflect.Type) bool { return t.Implements(i) || pt.Implements(i) })
}

// scalarKind is the fast kind of booleans, numbers and strings, fastNone
// for the other kinds.
func scalarKind(k reflect.Kind) fastKind {
	switch k {
	case reflect.Bool:
		return fastBool
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return fastInt
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return fastUint
	case reflect.Float32, reflect.Float64:
		return fastFloat
	case reflect.String:
		return fastString
	}
	return fastNone
}

// structPlan maps the JSON names of t's fields to their indexes, as
// encoding/json names them, for the structs plainFields takes.
func structPlan(t reflect.Type) *plan {
	fields := make(map[string]*fastField, t.NumField())
	folded := make(map[string]*fastField, t.NumField())
	plain := plainFields(t, func(i int, name string, _ bool) {
		fields[name] = &fastField{index: i, plan: planOf(t.Field(i).Type)}
		if u := string(appendUpper(nil, []byte(name))); folded[u] == nil {
			folded[u] = fields[name]
		}
	})
	if !plain {
		return &plan{}
	}
	return &plan{kind: fastStruct, fields: fields, folded: folded}
}

// plainFields calls each, in order, with the index, the JSON name and
// whether the tag says omitempty of every field encoding/json reads and
// writes in the struct type t. It reports false, calling each for some
// fields at most, when t is not as simple as the fast paths need: an
// embedded field, two fields of one name, a name of more than ASCII
// letters, digits, '_' and '-', or a tag option other than omitempty
// ("string", "omitzero", and those of encoding/json/v2, which
// GOEXPERIMENT=jsonv2 makes encoding/json's: "inline", "format:...").
func plainFields(t reflect.Type, each func(i int, name string, omitEmpty bool)) bool {
	seen := make(map[string]bool, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous {
			return false
		}
		tag := f.Tag.Get("json")
		if !f.IsExported() || tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" {
			name = f.Name
		}
		omitEmpty := false
		for o := range strings.SplitSeq(opts, ",") {
			if o != "" && o != "omitempty" {
				return false
			}
			omitEmpty = omitEmpty || o == "omitempty"
		}
		if seen[name] || !plainName(name) {
			return false
		}
		seen[name] = true
		each(i, name, omitEmpty)
	}
	return true
}

func plainName(s string) bool {
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return s != ""
}

// appendUpper appends the ASCII name in upper case to dst.
func appendUpper(dst, name []byte) []byte {
	for _, c := range name {
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
