package main

import (
	"regexp"
	"strconv"
	"strings"
)

// replToken matches a replacement string: {} {.} {/} {//} {/.} {#} {%}
// and the same with an input source's number, {2} {2.} ...
var replToken = regexp.MustCompile(`\{(#|%|[0-9]*(?:\.|/\.|//|/)?)\}`)

// A wordPart is literal text or a replacement string.
type wordPart struct {
	lit    string
	token  bool
	kind   byte   // 0 for an argument, '#' for the job number, '%' for the slot
	source int    // the input source's number; 0 means every argument
	mod    string // "", ".", "/", "//" or "/."
}

// A template is a command with its replacement strings found, ready to be
// composed for each job the way GNU parallel composes it.
type template struct {
	words [][]wordPart
	// hasRepl: the command holds a replacement string; without one the
	// arguments are appended.
	hasRepl bool
	// raw: the command's first shell word holds one, so nothing is
	// quoted (the argument is then meant to be shell code).
	raw bool
	// quoteWords (-q): each word is quoted whole once replaced, so the
	// shell sees the words as given.
	quoteWords bool
}

// newTemplate parses a command's words. No words at all means that the
// arguments are the commands.
func newTemplate(words []string, quoteWords bool) *template {
	if len(words) == 0 {
		words = []string{"{}"}
	}
	t := &template{quoteWords: quoteWords}
	for _, w := range words {
		parts := parseWord(w)
		for _, p := range parts {
			t.hasRepl = t.hasRepl || p.token
		}
		t.words = append(t.words, parts)
	}
	first := strings.Fields(strings.Join(words, " "))
	t.raw = !quoteWords && len(first) > 0 && replToken.MatchString(first[0])
	return t
}

// parseWord splits one word into literal text and replacement strings.
func parseWord(w string) []wordPart {
	var parts []wordPart
	last := 0
	for _, m := range replToken.FindAllStringSubmatchIndex(w, -1) {
		if m[0] > last {
			parts = append(parts, wordPart{lit: w[last:m[0]]})
		}
		parts = append(parts, tokenPart(w[m[2]:m[3]]))
		last = m[1]
	}
	if last < len(w) {
		parts = append(parts, wordPart{lit: w[last:]})
	}
	return parts
}

// tokenPart reads the inside of a replacement string.
func tokenPart(inner string) wordPart {
	p := wordPart{token: true}
	switch inner {
	case "#", "%":
		p.kind = inner[0]
		return p
	}
	digits := strings.TrimRight(inner, "./")
	p.source, _ = strconv.Atoi(digits)
	p.mod = inner[len(digits):]
	return p
}

// usesSlot reports whether the command holds {%}, which differs from
// run to run.
func (t *template) usesSlot() bool {
	for _, parts := range t.words {
		for _, p := range parts {
			if p.kind == '%' {
				return true
			}
		}
	}
	return false
}

// compose returns the command of the job with these arguments, number
// and slot.
func (t *template) compose(args []string, seq, slot int) string {
	var b strings.Builder
	for i, parts := range t.words {
		if i > 0 {
			b.WriteByte(' ')
		}
		if t.quoteWords {
			b.WriteString(shellQuote(t.expandWord(parts, args, seq, slot, false)))
		} else {
			b.WriteString(t.expandWord(parts, args, seq, slot, !t.raw))
		}
	}
	if !t.hasRepl {
		for _, a := range args {
			b.WriteByte(' ')
			b.WriteString(shellQuote(a))
		}
	}
	return b.String()
}

// expandWord replaces the replacement strings of one word, quoting each
// argument when quote is set.
func (t *template) expandWord(parts []wordPart, args []string, seq, slot int, quote bool) string {
	if len(parts) == 1 && !parts[0].token {
		return parts[0].lit
	}
	var b strings.Builder
	for _, p := range parts {
		switch {
		case !p.token:
			b.WriteString(p.lit)
		case p.kind == '#':
			b.WriteString(strconv.Itoa(seq))
		case p.kind == '%':
			b.WriteString(strconv.Itoa(slot))
		case p.source == 0:
			for i, a := range args {
				if i > 0 {
					b.WriteByte(' ')
				}
				b.WriteString(maybeQuote(transform(a, p.mod), quote))
			}
		case p.source <= len(args):
			b.WriteString(maybeQuote(transform(args[p.source-1], p.mod), quote))
		}
		// {n} past the last source is empty, as in GNU.
	}
	return b.String()
}

func maybeQuote(s string, quote bool) string {
	if quote {
		return shellQuote(s)
	}
	return s
}

// tagFor returns the tag of a job's output lines: the tagstring
// composed without quoting, or the arguments joined by spaces.
func (t *template) tagFor(args []string, seq, slot int) string {
	if t == nil {
		return strings.Join(args, " ")
	}
	var b strings.Builder
	for i, parts := range t.words {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(t.expandWord(parts, args, seq, slot, false))
	}
	return b.String()
}

// transform applies a replacement string's modifier to an argument.
func transform(a, mod string) string {
	switch mod {
	case ".":
		return trimExt(a)
	case "/":
		return basename(a)
	case "//":
		return dirname(a)
	case "/.":
		return trimExt(basename(a))
	}
	return a
}

// trimExt removes the extension: the last dot of the last path element
// and what follows it ({.} of .hidden is empty, of a. is a, as in GNU).
func trimExt(a string) string {
	i := strings.LastIndexAny(a, "./")
	if i < 0 || a[i] != '.' {
		return a
	}
	return a[:i]
}

// basename is what follows the last slash ({/} of a/b/ is empty).
func basename(a string) string {
	return a[strings.LastIndexByte(a, '/')+1:]
}

// dirname is Perl's File::Basename dirname, which GNU parallel uses: the
// directory of the last element once trailing slashes are gone; "." for
// a bare name, "/" for the root.
func dirname(a string) string {
	s := strings.TrimRight(a, "/")
	if s == "" {
		if a == "" {
			return "."
		}
		return "/"
	}
	i := strings.LastIndexByte(s, '/')
	if i < 0 {
		return "."
	}
	if d := strings.TrimRight(s[:i], "/"); d != "" {
		return d
	}
	return "/"
}

// shellQuote quotes s for a POSIX shell the way GNU parallel does: as is
// when it holds only [-_.+a-zA-Z0-9/], else in single quotes, a quote
// written as '"'"'; the empty string is ”.
func shellQuote(s string) string {
	if s == "" {
		return "''"
	}
	if isShellSafe(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'"'"'`) + "'"
}

func isShellSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '-', c == '_', c == '.', c == '+', c == '/':
		default:
			return false
		}
	}
	return true
}
