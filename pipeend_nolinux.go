//go:build !linux

package childproc

import "os"

// lend returns a descriptor of the pipe for another child to read (its
// stdin): a dup, which turns the pipe blocking for the parent too (see
// dup). Reads of the parent's end then ignore deadlines.
func (p *pipeEnd) lend() (*os.File, error) { return p.dup() }
