package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
)

// sourceSpec is one input source as the command line gives it: the
// arguments after :::, or a file after :::: (or -a).
type sourceSpec struct {
	args   []string
	file   string // "" for a ::: source; "-" is stdin
	linked bool   // :::+ or ::::+: paired with the source before it
}

// splitSources splits what follows the flags into the command and its
// input sources.
func splitSources(words []string) (command []string, sources []sourceSpec) {
	i := 0
	for i < len(words) && !isSeparator(words[i]) {
		i++
	}
	command = words[:i]
	for i < len(words) {
		sep := words[i]
		i++
		j := i
		for j < len(words) && !isSeparator(words[j]) {
			j++
		}
		linked := strings.HasSuffix(sep, "+")
		if strings.HasPrefix(sep, "::::") {
			for k, f := range words[i:j] {
				sources = append(sources, sourceSpec{file: f, linked: linked && k == 0})
			}
		} else {
			sources = append(sources, sourceSpec{args: argLines(words[i:j]), linked: linked})
		}
		i = j
	}
	return command, sources
}

// argLines splits the arguments after ::: at their newlines, as GNU
// parallel does (it reads them back as lines): "a\nb" is two arguments,
// "a\n" is "a" and "". So no argument, and no --tag, holds a newline.
func argLines(words []string) []string {
	var args []string
	for _, w := range words {
		args = append(args, strings.Split(w, "\n")...)
	}
	return args
}

func isSeparator(w string) bool {
	switch w {
	case ":::", ":::+", "::::", "::::+":
		return true
	}
	return false
}

// inputSources returns every source in order: -a files, then those after
// the command, else stdin.
func (o *parallelOptions) inputSources() []sourceSpec {
	var all []sourceSpec
	for _, f := range o.argFiles {
		all = append(all, sourceSpec{file: f})
	}
	all = append(all, o.sources...)
	if len(all) == 0 {
		all = []sourceSpec{{file: "-"}}
	}
	return all
}

// An inputIter yields the arguments of one job after another (one per
// input source), then io.EOF.
type inputIter interface {
	next() ([]string, error)
}

// openInput opens the input sources. With one source that is a file and
// readAll false the lines are read as jobs need them, so that jobs start
// before the input has ended; otherwise every source is read first and
// the jobs are their combinations (or, with link, their pairings).
func openInput(o *parallelOptions, stdin io.Reader, readAll bool) (inputIter, error) {
	specs := o.inputSources()
	readers := make([]io.Reader, len(specs))
	for i, s := range specs {
		if s.file == "" {
			continue
		}
		r, err := openSource(s.file, stdin)
		if err != nil {
			closeReaders(readers)
			return nil, err
		}
		readers[i] = r
	}
	if len(specs) == 1 && readers[0] != nil && !readAll {
		return &lineIter{r: bufio.NewReaderSize(readers[0], 64*1024), closer: readers[0], name: specs[0].file}, nil
	}
	defer closeReaders(readers)
	values := make([][]string, len(specs))
	for i, s := range specs {
		values[i] = s.args
		if readers[i] != nil {
			lines, err := readLines(readers[i], s.file)
			if err != nil {
				return nil, err
			}
			values[i] = lines
		}
	}
	return newCombiner(linkGroups(specs, values, o.link)), nil
}

// openSource opens a :::: file; "-" is stdin.
func openSource(name string, stdin io.Reader) (io.Reader, error) {
	if name == "-" {
		return io.NopCloser(stdin), nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("input source %w", err)
	}
	return f, nil
}

func closeReaders(rs []io.Reader) {
	for _, r := range rs {
		if c, ok := r.(io.Closer); ok {
			c.Close()
		}
	}
}

// readLines reads every line of r, without their newlines.
func readLines(r io.Reader, name string) ([]string, error) {
	rows, err := collect(&lineIter{r: bufio.NewReaderSize(r, 64*1024), name: name})
	lines := make([]string, len(rows))
	for i, row := range rows {
		lines[i] = row[0]
	}
	return lines, err
}

// lineIter yields the lines of one source, each the argument of a job.
type lineIter struct {
	r      *bufio.Reader
	closer io.Reader
	name   string
}

func (it *lineIter) next() ([]string, error) {
	line, err := it.r.ReadString('\n')
	if err == io.EOF && line != "" {
		err = nil
	}
	if err != nil {
		if c, ok := it.closer.(io.Closer); ok {
			c.Close()
		}
		if err != io.EOF {
			err = fmt.Errorf("reading input source %s: %w", it.sourceName(), err)
		}
		return nil, err
	}
	return []string{strings.TrimSuffix(line, "\n")}, nil
}

func (it *lineIter) sourceName() string {
	if it.name == "-" {
		return "stdin"
	}
	return it.name
}

// linkGroups merges linked sources (all of them with link) into groups
// whose rows pair the sources' values, the shorter ones wrapping around
// as GNU's --link does.
func linkGroups(specs []sourceSpec, values [][]string, link bool) [][][]string {
	var groups [][][]string
	var members [][]string
	flush := func() {
		if members != nil {
			groups = append(groups, pairRows(members))
		}
		members = nil
	}
	for i, s := range specs {
		if i > 0 && !s.linked && !link {
			flush()
		}
		members = append(members, values[i])
	}
	flush()
	return groups
}

// pairRows pairs the values of linked sources row by row.
func pairRows(members [][]string) [][]string {
	n := 0
	for _, m := range members {
		if len(m) == 0 {
			return nil
		}
		n = max(n, len(m))
	}
	rows := make([][]string, n)
	for i := range rows {
		row := make([]string, len(members))
		for k, m := range members {
			row[k] = m[i%len(m)]
		}
		rows[i] = row
	}
	return rows
}

// combiner yields every combination of the groups' rows, the first group
// changing slowest, as GNU parallel orders them.
type combiner struct {
	groups [][][]string
	pos    []int
	done   bool
}

func newCombiner(groups [][][]string) *combiner {
	c := &combiner{groups: groups, pos: make([]int, len(groups))}
	for _, g := range groups {
		if len(g) == 0 {
			c.done = true
		}
	}
	return c
}

func (c *combiner) next() ([]string, error) {
	if c.done {
		return nil, io.EOF
	}
	var args []string
	for i, g := range c.groups {
		args = append(args, g[c.pos[i]]...)
	}
	c.advance()
	return args, nil
}

// advance moves to the next combination, the last group fastest.
func (c *combiner) advance() {
	for i := len(c.pos) - 1; i >= 0; i-- {
		c.pos[i]++
		if c.pos[i] < len(c.groups[i]) {
			return
		}
		c.pos[i] = 0
	}
	c.done = true
}
