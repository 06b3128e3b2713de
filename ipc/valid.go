package ipc

import "encoding/binary"

// validJSON reports whether data is exactly one JSON value, surrounded by
// optional whitespace. It accepts what encoding/json's Valid accepts
// (including bytes that are not UTF-8 inside strings, and nesting up to
// 10000 deep) and is several times faster on the long strings that IPC
// messages carry; FuzzValid checks the two agree.
func validJSON(data []byte) bool {
	v := validator{data: data}
	return v.whole()
}

const maxDepth = 10000

type validator struct {
	data   []byte
	i      int
	spaced bool // whitespace was skipped between tokens
}

// whole reports whether the data is exactly one JSON value, surrounded by
// optional whitespace.
func (v *validator) whole() bool {
	v.space()
	if !v.value(0) {
		return false
	}
	v.space()
	return v.i == len(v.data)
}

// plain marks the bytes a string may hold as they are.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// special reports whether any of the eight bytes in x is '"', '\\' or a
// control character (below 0x20): the bytes that end a run of plain
// string bytes. (The classic "has a zero byte" test: for each byte b, the
// top bit of (b - k) &^ b is set when b < k, here for b^'"', b^'\\' and b
// itself against 1, 1 and 0x20.)
func special(x uint64) bool {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	q := x ^ (lo * '"')
	b := x ^ (lo * '\\')
	return ((q-lo)&^q|(b-lo)&^b|(x-lo*0x20)&^x)&hi != 0
}

func (v *validator) space() {
	for v.i < len(v.data) {
		switch v.data[v.i] {
		case ' ', '\t', '\n', '\r':
			v.i++
			v.spaced = true
		default:
			return
		}
	}
}

func (v *validator) value(depth int) bool {
	if v.i >= len(v.data) {
		return false
	}
	switch c := v.data[v.i]; {
	case c == '{':
		return v.object(depth + 1)
	case c == '[':
		return v.array(depth + 1)
	case c == '"':
		return v.str()
	case c == '-' || c >= '0' && c <= '9':
		return v.number()
	case c == 't':
		return v.word("true")
	case c == 'f':
		return v.word("false")
	case c == 'n':
		return v.word("null")
	}
	return false
}

func (v *validator) word(w string) bool {
	if len(v.data)-v.i < len(w) || string(v.data[v.i:v.i+len(w)]) != w {
		return false
	}
	v.i += len(w)
	return true
}

func (v *validator) object(depth int) bool { return v.members(depth, nil) }

// members is object, calling each (unless nil) with the raw key and the
// raw value of every member in turn.
func (v *validator) members(depth int, each func(key, value []byte)) bool {
	if depth > maxDepth {
		return false
	}
	v.i++ // '{'
	v.space()
	if v.i < len(v.data) && v.data[v.i] == '}' {
		v.i++
		return true
	}
	for {
		k := v.i
		if v.i >= len(v.data) || v.data[v.i] != '"' || !v.str() {
			return false
		}
		key := v.data[k:v.i]
		v.space()
		if v.i >= len(v.data) || v.data[v.i] != ':' {
			return false
		}
		v.i++
		v.space()
		start := v.i
		if !v.value(depth) {
			return false
		}
		if each != nil {
			each(key, v.data[start:v.i])
		}
		v.space()
		if v.i >= len(v.data) {
			return false
		}
		switch v.data[v.i] {
		case ',':
			v.i++
			v.space()
		case '}':
			v.i++
			return true
		default:
			return false
		}
	}
}

func (v *validator) array(depth int) bool {
	if depth > maxDepth {
		return false
	}
	v.i++ // '['
	v.space()
	if v.i < len(v.data) && v.data[v.i] == ']' {
		v.i++
		return true
	}
	for {
		if !v.value(depth) {
			return false
		}
		v.space()
		if v.i >= len(v.data) {
			return false
		}
		switch v.data[v.i] {
		case ',':
			v.i++
			v.space()
		case ']':
			v.i++
			return true
		default:
			return false
		}
	}
}

func (v *validator) str() bool {
	d := v.data
	i := v.i + 1 // past '"'
	for {
		// Skip eight plain bytes at a time, then one at a time up to the
		// byte that ends the run.
		for i+8 <= len(d) && !special(binary.LittleEndian.Uint64(d[i:])) {
			i += 8
		}
		for i < len(d) && plain[d[i]] {
			i++
		}
		if i >= len(d) {
			return false
		}
		switch d[i] {
		case '"':
			v.i = i + 1
			return true
		case '\\':
			if i+1 >= len(d) {
				return false
			}
			switch d[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(d) {
					return false
				}
				for _, h := range d[i+2 : i+6] {
					if !(h >= '0' && h <= '9' || h >= 'a' && h <= 'f' || h >= 'A' && h <= 'F') {
						return false
					}
				}
				i += 6
			default:
				return false
			}
		default: // a control character
			return false
		}
	}
}

func (v *validator) number() bool {
	d := v.data
	i := v.i
	if d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && d[i] >= '1' && d[i] <= '9':
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(d) && d[i] == '.' {
		i++
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			return false
		}
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			return false
		}
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	}
	v.i = i
	return true
}
