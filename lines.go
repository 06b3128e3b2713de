package childproc

import (
	"bufio"
	"io"
	"iter"
	"strings"
)

// Lines returns the lines that r yields, for a range loop over a child's
// stream (Node's readline over subprocess.stdout):
//
//	for line, err := range childproc.Lines(c.Stdout) { ... }
//
// Each line comes without its "\n" or "\r\n"; a last line without one
// comes too. A read error other than io.EOF ends the lines: it is yielded
// once, with "". Lines reads r with a buffer of its own, so what r holds
// past the line at which the loop stops is no longer r's to read.
func Lines(r io.Reader) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		br := bufio.NewReader(r)
		for {
			line, err := br.ReadString('\n')
			if line != "" {
				line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
				if !yield(line, nil) {
					return
				}
			}
			if err == io.EOF {
				return
			}
			if err != nil {
				yield("", err)
				return
			}
		}
	}
}
