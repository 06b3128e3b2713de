package main

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// A timeFormat is a Unicode date pattern (concurrently's
// --timestamp-format), such as "yyyy-MM-dd HH:mm:ss.SSS", compiled.
type timeFormat struct {
	pattern string
	parts   []timePart
}

// A timePart is a literal, or a field: a pattern letter repeated n times.
type timePart struct {
	literal string
	letter  byte
	n       int
}

// defaultTimeFormat is concurrently's default --timestamp-format.
var defaultTimeFormat = mustTimeFormat("yyyy-MM-dd HH:mm:ss.SSS")

func mustTimeFormat(pattern string) timeFormat {
	var f timeFormat
	if err := f.Set(pattern); err != nil {
		panic(err)
	}
	return f
}

func (f *timeFormat) String() string { return f.pattern }

// timeLetters are the pattern letters a timeFormat knows: year, month,
// day, weekday, hours (0-23 and 1-12), minutes, seconds, fractions of a
// second, AM/PM.
const timeLetters = "yMdEHhmsSa"

// Set compiles pattern: runs of a pattern letter are fields; text in
// single quotes is literal, where two quotes in a row stand for one; every
// other character but an ASCII letter is literal too.
func (f *timeFormat) Set(pattern string) error {
	var parts []timePart
	for i := 0; i < len(pattern); {
		c := pattern[i]
		switch {
		case c == '\'':
			lit, n, err := quoted(pattern[i:])
			if err != nil {
				return err
			}
			parts = append(parts, timePart{literal: lit})
			i += n
		case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
			if !strings.ContainsRune(timeLetters, rune(c)) {
				return fmt.Errorf("unsupported pattern letter %q (supported: %s)", c, timeLetters)
			}
			n := 1
			for i+n < len(pattern) && pattern[i+n] == c {
				n++
			}
			parts = append(parts, timePart{letter: c, n: n})
			i += n
		default:
			parts = append(parts, timePart{literal: string(c)})
			i++
		}
	}
	*f = timeFormat{pattern: pattern, parts: parts}
	return nil
}

// quoted reads the quoted literal at the start of s and returns it and
// the bytes it took.
func quoted(s string) (lit string, n int, err error) {
	if strings.HasPrefix(s, "''") {
		return "'", 2, nil
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		if s[i] != '\'' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 < len(s) && s[i+1] == '\'' {
			b.WriteByte('\'')
			i++
			continue
		}
		return b.String(), i + 1, nil
	}
	return "", 0, errors.New("unterminated quote")
}

// format formats t.
func (f timeFormat) format(t time.Time) string {
	var b strings.Builder
	for _, p := range f.parts {
		if p.letter == 0 {
			b.WriteString(p.literal)
		} else {
			b.WriteString(p.field(t))
		}
	}
	return b.String()
}

// field formats the field p of t.
func (p timePart) field(t time.Time) string {
	switch p.letter {
	case 'y':
		if p.n == 2 {
			return pad(t.Year()%100, 2)
		}
		return pad(t.Year(), p.n)
	case 'M':
		switch {
		case p.n == 3:
			return t.Month().String()[:3]
		case p.n >= 4:
			return t.Month().String()
		}
		return pad(int(t.Month()), p.n)
	case 'd':
		return pad(t.Day(), p.n)
	case 'E':
		if p.n >= 4 {
			return t.Weekday().String()
		}
		return t.Weekday().String()[:3]
	case 'H':
		return pad(t.Hour(), p.n)
	case 'h':
		return pad((t.Hour()+11)%12+1, p.n)
	case 'm':
		return pad(t.Minute(), p.n)
	case 's':
		return pad(t.Second(), p.n)
	case 'S':
		digits := fmt.Sprintf("%09d", t.Nanosecond())
		return (digits + strings.Repeat("0", max(0, p.n-9)))[:p.n]
	case 'a':
		if t.Hour() < 12 {
			return "AM"
		}
		return "PM"
	}
	panic("unknown time field " + string(p.letter))
}

// pad formats v with at least n digits.
func pad(v, n int) string { return fmt.Sprintf("%0*d", n, v) }
