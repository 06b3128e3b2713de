package ipc_test

import (
	"bytes"
	"math"
	"math/big"
	"reflect"
	"strings"
	"time"

	"github.com/childproc/childproc/ipc"
)

// advancedCase is one value of testdata/advanced_cases.js, as Go decodes
// it (and encodes it back). loose marks the cases whose wire form Go
// cannot ask for, so only their values are compared; back is what Go
// sends for them when it is not value.
type advancedCase struct {
	value func() any
	loose bool
	// unreadable: Node writes it but cannot read it back, so Go
	// refuses to send it.
	unreadable bool
}

func bigint(s string) *big.Int {
	n, ok := new(big.Int).SetString(s, 10)
	if !ok {
		panic(s)
	}
	return n
}

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i * 7)
	}
	return b
}

var advancedCases = map[string]advancedCase{
	"null":          {value: func() any { return nil }},
	"true":          {value: func() any { return true }},
	"false":         {value: func() any { return false }},
	"int":           {value: func() any { return 1.0 }},
	"negInt":        {value: func() any { return -123456.0 }},
	"int32Max":      {value: func() any { return 2147483647.0 }},
	"pastInt32":     {value: func() any { return 2147483648.0 }},
	"negZero":       {value: func() any { return math.Copysign(0, -1) }},
	"nan":           {value: func() any { return math.NaN() }},
	"inf":           {value: func() any { return math.Inf(1) }},
	"negInf":        {value: func() any { return math.Inf(-1) }},
	"fraction":      {value: func() any { return 1.5 }},
	"maxSafePlus":   {value: func() any { return float64(1<<53 + 2) }},
	"bigint":        {value: func() any { return []any{bigint("9007199254740993")} }},
	"negBigint":     {value: func() any { return []any{big.NewInt(-5)} }},
	"zeroBigint":    {value: func() any { return []any{new(big.Int)} }},
	"hugeBigint":    {value: func() any { return []any{bigint("-1606938044258990275541962092341162602522202993782792835313721")} }},
	"emptyString":   {value: func() any { return "" }},
	"ascii":         {value: func() any { return "abc" }},
	"latin1":        {value: func() any { return "é ÿ" }},
	"twoByte":       {value: func() any { return "ÿ€ ok" }},
	"astral":        {value: func() any { return "😀" }},
	"loneHigh":      {value: func() any { return "\xed\xa0\x80" }},
	"loneMixed":     {value: func() any { return "a\xed\xbf\xbf\xed\xa0\xbdb" }},
	"hugeString":    {value: func() any { return strings.Repeat("x", 8<<20) }},
	"hugeTwoByte":   {value: func() any { return strings.Repeat("é😀\u2028", 100000) }},
	"object":        {value: func() any { return map[string]any{"a": 1.0, "b": "x", "c": map[string]any{"d": []any{true, nil}}} }},
	"indexKeys":     {value: func() any { return map[string]any{"0": "z", "1": "a", "4294967295": "not an index", "b": 2.0} }},
	"twoByteKey":    {value: func() any { return map[string]any{"a": 1.0, "€😀": "two-byte key", "z": "é"} }},
	"undefinedProp": {value: func() any { return map[string]any{"u": ipc.Undefined{}} }},
	"array":         {value: func() any { return []any{1.0, 2.0, 3.0} }},
	"doubles":       {value: func() any { return []any{1.5, 2.0, math.Copysign(0, -1)} }},
	"mixed":         {value: func() any { return []any{1.0, "a", nil, ipc.Undefined{}, float64(1 << 40)} }},
	"emptyArray":    {value: func() any { return []any{} }},
	"holes":         {value: func() any { return &ipc.SparseArray{Length: 3, Elems: map[uint32]any{0: 1.0, 2: 3.0}} }},
	"sparseHuge":    {value: func() any { return &ipc.SparseArray{Length: 1000001, Elems: map[uint32]any{1000000: "last"}} }},
	"holeyFull":     {value: func() any { return []any{7.0, 7.0, 7.0} }, loose: true},
	"date":          {value: func() any { return time.UnixMilli(1700000000123).UTC() }},
	"epoch":         {value: func() any { return time.UnixMilli(0).UTC() }},
	"regexp":        {value: func() any { return ipc.RegExp{Source: "ab+c", Flags: "gi"} }},
	"regexpFlags":   {value: func() any { return ipc.RegExp{Source: "x", Flags: "dgimsy"} }},
	"regexpTwoByte": {value: func() any { return ipc.RegExp{Source: `é€\d`, Flags: "u"} }},
	"map":           {value: func() any { return &ipc.Map{Entries: []ipc.MapEntry{{1.0, "a"}, {"k", 2.0}}} }},
	"nestedMaps": {value: func() any {
		inner := &ipc.Map{Entries: []ipc.MapEntry{{"inner", &ipc.Set{Values: []any{1.0, "two"}}}}}
		return &ipc.Map{Entries: []ipc.MapEntry{{map[string]any{"k": 1.0}, inner}, {math.NaN(), math.Copysign(0, -1)}}}
	}},
	"set":            {value: func() any { return &ipc.Set{Values: []any{1.0, "a", map[string]any{}, []any{2.0}}} }},
	"emptyBuffer":    {value: func() any { return []byte{} }},
	"buffer":         {value: func() any { return []byte{1, 2, 3, 255} }},
	"hugeBuffer":     {value: func() any { return pattern(8 << 20) }},
	"uint8Array":     {value: func() any { return []byte{4, 5} }, loose: true},
	"int8Array":      {value: func() any { return []int8{-1, 2} }},
	"int16Array":     {value: func() any { return []int16{-1, 300} }},
	"uint16Array":    {value: func() any { return []uint16{65535} }},
	"int32Array":     {value: func() any { return []int32{-5, 1 << 30} }},
	"uint32Array":    {value: func() any { return []uint32{4294967295} }},
	"float32Array":   {value: func() any { return []float32{1.5, float32(math.Copysign(0, -1))} }},
	"float64Array":   {value: func() any { return []float64{math.Pi, math.NaN()} }},
	"bigInt64Array":  {value: func() any { return []int64{-1, 1 << 62} }},
	"bigUint64Array": {value: func() any { return []uint64{math.MaxUint64} }},
	"uint8Clamped":   {value: func() any { return ipc.Uint8ClampedArray{0, 255} }},
	"dataView":       {value: func() any { return ipc.DataView{9, 8, 7} }},
	"arrayBuffer":    {value: func() any { return ipc.ArrayBuffer{1, 2} }},
	"cyclic": {value: func() any {
		o := map[string]any{"a": 1.0}
		o["self"] = o
		return o
	}},
	"shared": {value: func() any {
		o := map[string]any{"x": 1.0}
		return []any{o, o, map[string]any{"o": o}}
	}},
	"cyclicArray": {value: func() any {
		a := make([]any, 2)
		a[0] = 1.0
		a[1] = a
		return a
	}},
	"cyclicHoley": {value: func() any {
		a := make([]any, 2)
		a[0] = 1.0
		a[1] = a
		return a
	}, loose: true},
	"cyclicMap": {value: func() any {
		m := &ipc.Map{}
		m.Set("me", m)
		return m
	}},
	"error": {value: func() any {
		return &ipc.JSError{Name: "TypeError", Message: "boom", Stack: "S1", Cause: &ipc.JSError{Name: "RangeError", Message: "inner", Stack: "S2"}}
	}},
	"plainError": {value: func() any { return &ipc.JSError{Name: "Error", Stack: "just a stack"} }},
	"errorCauseSelf": {value: func() any {
		e := &ipc.JSError{Name: "Error", Message: "me", Stack: "S"}
		e.Cause = e
		return e
	}, unreadable: true},
	"numberObject":   {value: func() any { return 3.0 }, loose: true},
	"evalError":      {value: func() any { return &ipc.JSError{Name: "EvalError", Message: "e", Stack: "S"} }},
	"referenceError": {value: func() any { return &ipc.JSError{Name: "ReferenceError", Message: "r", Stack: "S"} }},
	"syntaxError":    {value: func() any { return &ipc.JSError{Name: "SyntaxError", Message: "s", Stack: "S"} }},
	"uriError":       {value: func() any { return &ipc.JSError{Name: "URIError", Message: "u", Stack: "S"} }},
	"booleanObject":  {value: func() any { return true }, loose: true},
	"stringObject":   {value: func() any { return "é" }, loose: true},
	"bigintObject":   {value: func() any { return []any{big.NewInt(5)} }, loose: true},
	"invalidDate":    {value: func() any { return time.Time{} }},
	"emptyMap":       {value: func() any { return &ipc.Map{} }},
	"emptySet":       {value: func() any { return &ipc.Set{} }},
	"everything": {value: func() any {
		return map[string]any{
			"list": []any{ipc.Undefined{}, nil, math.Copysign(0, -1), math.NaN(), big.NewInt(1), "é", "€",
				time.UnixMilli(5).UTC(), ipc.RegExp{Source: "r", Flags: "y"}},
			"map":    &ipc.Map{Entries: []ipc.MapEntry{{big.NewInt(1), []byte("hi")}}},
			"nested": map[string]any{"deeper": map[string]any{"deepest": &ipc.Set{Values: []any{[]float64{0.25}}}}},
		}
	}},
}

// sameJS reports whether two decoded values are the same JavaScript
// value: as reflect.DeepEqual, except that NaN is NaN, -0 is not 0,
// big.Ints compare by value and cycles are followed once.
func sameJS(a, b any) bool {
	return sameValue(reflect.ValueOf(a), reflect.ValueOf(b), map[[2]uintptr]bool{})
}

func sameValue(a, b reflect.Value, seen map[[2]uintptr]bool) bool {
	if !a.IsValid() || !b.IsValid() {
		return a.IsValid() == b.IsValid()
	}
	if a.Type() != b.Type() {
		return false
	}
	if x, ok := a.Interface().(*big.Int); ok {
		return x.Cmp(b.Interface().(*big.Int)) == 0
	}
	switch a.Kind() {
	case reflect.Float32, reflect.Float64:
		x, y := a.Float(), b.Float()
		return x == y && math.Signbit(x) == math.Signbit(y) || math.IsNaN(x) && math.IsNaN(y)
	case reflect.Map, reflect.Pointer, reflect.Slice:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		k := [2]uintptr{uintptr(a.UnsafePointer()), uintptr(b.UnsafePointer())}
		if a.Kind() != reflect.Slice || a.Len() > 0 {
			if seen[k] {
				return true
			}
			seen[k] = true
		}
	}
	switch a.Kind() {
	case reflect.Interface, reflect.Pointer:
		return sameValue(a.Elem(), b.Elem(), seen)
	case reflect.Slice, reflect.Array:
		if a.Len() != b.Len() {
			return false
		}
		if a.Type().Elem().Kind() == reflect.Uint8 {
			return bytes.Equal(a.Bytes(), b.Bytes())
		}
		for i := 0; i < a.Len(); i++ {
			if !sameValue(a.Index(i), b.Index(i), seen) {
				return false
			}
		}
		return true
	case reflect.Map:
		if a.Len() != b.Len() {
			return false
		}
		for it := a.MapRange(); it.Next(); {
			bv := b.MapIndex(it.Key())
			if !bv.IsValid() || !sameValue(it.Value(), bv, seen) {
				return false
			}
		}
		return true
	case reflect.Struct:
		if t, ok := a.Interface().(time.Time); ok {
			return t.Equal(b.Interface().(time.Time))
		}
		for i := 0; i < a.NumField(); i++ {
			if !sameValue(a.Field(i), b.Field(i), seen) {
				return false
			}
		}
		return true
	}
	return a.Interface() == b.Interface()
}
