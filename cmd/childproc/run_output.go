package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fatih/color"
)

// maxPartialLine is the most bytes of a line without its newline that a
// command's writer holds; a longer line is written out in pieces of this
// size, each with its prefix.
const maxPartialLine = 1 << 20

// A sink is where the output of all the commands goes: childproc's stdout
// and stderr, written one whole line at a time under one lock, so that
// lines of different commands never mix.
type sink struct {
	cfg     *runConfig
	stdout  outStream
	stderr  outStream
	colours []*color.Color // by command index; nil: no colour

	mu    sync.Mutex
	pids  []int // by command index: the pid of its latest run
	width int   // --pad-prefix: the widest prefix so far
}

// An outStream is one of childproc's outputs.
type outStream struct {
	w      io.Writer
	colour bool // prefixes are coloured
}

// newSink returns the sink of procs' output.
func newSink(cfg *runConfig, procs []*proc, stdout, stderr io.Writer) *sink {
	s := &sink{
		cfg:     cfg,
		stdout:  outStream{stdout, useColour(cfg, stdout)},
		stderr:  outStream{stderr, useColour(cfg, stderr)},
		colours: assignColours(cfg.prefixColors, len(procs)),
		pids:    make([]int, len(procs)),
	}
	for _, p := range procs {
		s.widen(p)
	}
	return s
}

// useColour tells whether prefixes written to w are coloured: w is a
// terminal, NO_COLOR is unset or empty, TERM is not "dumb", and neither
// --no-color nor --raw was given.
func useColour(cfg *runConfig, w io.Writer) bool {
	if cfg.noColor || cfg.raw || os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	_, ok := terminal(w)
	return ok
}

// writers returns the writers of one run of p's stdout and stderr.
func (s *sink) writers(p *proc) (stdout, stderr *lineWriter) {
	return &lineWriter{s: s, p: p, dst: &s.stdout}, &lineWriter{s: s, p: p, dst: &s.stderr}
}

// started records the pid of p's new run.
func (s *sink) started(p *proc, pid int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pids[p.index] = pid
	s.widen(p)
}

// hidden tells whether p's output is dropped (--hide).
func (s *sink) hidden(p *proc) bool {
	return slices.ContainsFunc(s.cfg.hide, p.is)
}

// event writes a line about p (its exit, a restart) to stdout.
func (s *sink) event(p *proc, text string) {
	if s.cfg.raw || s.hidden(p) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stdout.w.Write([]byte(s.prefix(p, &s.stdout) + text + "\n"))
}

// global writes a line about all the commands (a stop) to stdout.
func (s *sink) global(text string) {
	if s.cfg.raw {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	io.WriteString(s.stdout.w, "--> "+text+"\n")
}

// writeLines writes text, whole lines of p's output, to dst, each line
// with p's prefix and a newline at its end, in one Write.
func (s *sink) writeLines(p *proc, dst *outStream, text []byte) {
	prefix := s.prefix(p, dst)
	var b bytes.Buffer
	for line := range bytes.Lines(text) {
		b.WriteString(prefix)
		b.Write(line)
		if line[len(line)-1] != '\n' {
			b.WriteByte('\n')
		}
	}
	dst.w.Write(b.Bytes())
}

// prefix returns the prefix of p's lines on dst, with the space after
// it, or "" for --prefix none.
func (s *sink) prefix(p *proc, dst *outStream) string {
	text, bracketed, ok := s.content(p, time.Now())
	if !ok {
		return ""
	}
	text += strings.Repeat(" ", max(0, s.width-len(text)))
	if bracketed {
		text = "[" + text + "]"
	}
	if c := s.colours[p.index]; dst.colour && c != nil {
		text = c.Sprint(text)
	}
	return text + " "
}

// content returns what p's prefix shows at time now (concurrently's
// styles and templates); bracketed for a style, not for a template; not
// ok for "none".
func (s *sink) content(p *proc, now time.Time) (text string, bracketed, ok bool) {
	style := s.cfg.prefix
	switch {
	case s.cfg.raw || style == "none":
		return "", false, false
	case style == "":
		style = "index"
		if p.name != "" {
			style = "name"
		}
	}
	fields := s.fields(p, now)
	for _, f := range fields {
		if f.key == style {
			return f.value, true, true
		}
	}
	for _, f := range fields {
		style = strings.ReplaceAll(style, "{"+f.key+"}", f.value)
	}
	return style, false, true
}

// A prefixField is one value a prefix can show.
type prefixField struct{ key, value string }

// fields returns the values of p's prefix fields at time now.
func (s *sink) fields(p *proc, now time.Time) []prefixField {
	pid := ""
	if s.pids[p.index] != 0 {
		pid = strconv.Itoa(s.pids[p.index])
	}
	return []prefixField{
		{"index", strconv.Itoa(p.index)},
		{"pid", pid},
		{"name", p.name},
		{"command", shorten(p.command, s.cfg.prefixLength)},
		{"time", s.cfg.timestampFormat.format(now)},
	}
}

// widen makes the prefix width fit p's prefix (--pad-prefix).
func (s *sink) widen(p *proc) {
	if !s.cfg.padPrefix {
		return
	}
	if text, _, ok := s.content(p, time.Now()); ok {
		s.width = max(s.width, len(text))
	}
}

// shorten cuts the middle out of text longer than n, as concurrently's
// --prefix-length does: "echo..here".
func shorten(text string, n int) string {
	if len(text) <= n {
		return text
	}
	const ellipsis = ".."
	keep := max(0, n-len(ellipsis))
	end := keep / 2
	return text[:keep-end] + ellipsis + text[len(text)-end:]
}

// A lineWriter receives one run of a command's stdout or stderr and hands
// the sink whole lines; flush writes a last line without its newline.
type lineWriter struct {
	s       *sink
	p       *proc
	dst     *outStream
	partial []byte // the start of a line whose newline has not come; under s.mu
}

// Write writes the complete lines in b and holds the rest, but never
// more than maxPartialLine bytes of it.
func (w *lineWriter) Write(b []byte) (int, error) {
	if w.s.hidden(w.p) {
		return len(b), nil
	}
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	w.partial = append(w.partial, b...)
	if end := bytes.LastIndexByte(w.partial, '\n') + 1; end > 0 {
		w.emitLocked(end)
	}
	for len(w.partial) >= maxPartialLine {
		w.emitLocked(maxPartialLine)
	}
	return len(b), nil
}

// emitLocked writes the first n bytes held and drops them.
func (w *lineWriter) emitLocked(n int) {
	w.s.writeLines(w.p, w.dst, w.partial[:n])
	w.partial = append(w.partial[:0], w.partial[n:]...)
}

// flush writes the line held, if any, ended with a newline.
func (w *lineWriter) flush() {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	if len(w.partial) > 0 {
		w.s.writeLines(w.p, w.dst, w.partial)
		w.partial = nil
	}
}

// autoColours are the colours --prefix-colors auto picks from, in turn.
var autoColours = []string{"cyan", "yellow", "greenBright", "blueBright", "magentaBright", "white", "gray", "red"}

// assignColours returns the colours of n commands from --prefix-colors:
// the i-th entry for the i-th command, the last entry for the commands
// past the list, and for "auto" the next of autoColours not named in the
// list.
func assignColours(specs []string, n int) []*color.Color {
	auto := slices.DeleteFunc(slices.Clone(autoColours), func(c string) bool { return slices.Contains(specs, c) })
	if len(auto) == 0 {
		auto = autoColours
	}
	colours := make([]*color.Color, n)
	next := 0
	for i := range colours {
		spec := specs[min(i, len(specs)-1)]
		if spec == "auto" {
			spec = auto[next%len(auto)]
			next++
		}
		colours[i], _ = parseColor(spec) // checked by parseRun
	}
	return colours
}

// colourAttributes are the words of a --prefix-colors entry.
var colourAttributes = func() map[string]color.Attribute {
	m := map[string]color.Attribute{
		"bold": color.Bold, "dim": color.Faint, "italic": color.Italic, "underline": color.Underline,
		"inverse": color.ReverseVideo, "hidden": color.Concealed, "strikethrough": color.CrossedOut,
		"gray": color.FgHiBlack, "grey": color.FgHiBlack, "bgGray": color.BgHiBlack, "bgGrey": color.BgHiBlack,
	}
	for i, name := range []string{"black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"} {
		bg := "bg" + strings.ToUpper(name[:1]) + name[1:]
		m[name] = color.FgBlack + color.Attribute(i)
		m[name+"Bright"] = color.FgHiBlack + color.Attribute(i)
		m[bg] = color.BgBlack + color.Attribute(i)
		m[bg+"Bright"] = color.BgHiBlack + color.Attribute(i)
	}
	return m
}()

// parseColor parses one --prefix-colors entry: words joined by dots
// ("bold.red", "bgBlue.white"), "#rrggbb", "reset" or "auto". It returns
// nil for an entry that colours nothing ("reset", "auto").
func parseColor(spec string) (*color.Color, error) {
	if spec == "auto" {
		return nil, nil
	}
	c := color.New()
	empty := true
	for _, word := range strings.Split(spec, ".") {
		if a, ok := colourAttributes[word]; ok {
			c.Add(a)
		} else if r, g, b, ok := parseHex(word); ok {
			c.AddRGB(r, g, b)
		} else if word != "reset" {
			return nil, fmt.Errorf("invalid value %q for flag -prefix-colors: unknown colour %q", spec, word)
		} else {
			continue
		}
		empty = false
	}
	if empty {
		return nil, nil
	}
	c.EnableColor() // whether to colour is decided per output, by useColour
	return c, nil
}

// parseHex parses "#rrggbb".
func parseHex(s string) (r, g, b int, ok bool) {
	if len(s) != 7 || s[0] != '#' {
		return 0, 0, 0, false
	}
	v, err := strconv.ParseUint(s[1:], 16, 32)
	if err != nil {
		return 0, 0, 0, false
	}
	return int(v >> 16), int(v >> 8 & 0xff), int(v & 0xff), true
}
