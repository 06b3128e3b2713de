//go:build unix && !linux

package childproc

import "os"

// lend returns nil: without /proc the only way to share the pipe is a dup,
// which would turn the parent's end blocking, and a blocking read of a
// pipe that a grandchild holds can be interrupted by neither WaitDelay nor
// a stop. The stream is copied to the child instead.
func (p *pipeEnd) lend() (*os.File, error) { return nil, nil }
