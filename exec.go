package childproc

import "context"

// Exec runs command through a shell ([Options.Shell], or DefaultShell, even
// when Shell is "") and buffers its output: Node's exec. It returns once
// the child has started; Output then waits and returns (stdout, stderr,
// error), Node's callback.
//
// The child's stdin is the null device, so a program that reads it gets
// EOF at once, as with os/exec's Output. With [Options.Input] it is a pipe
// fed with Input and then closed; with Stdio[0] set to Pipe it is a pipe
// that the caller writes through Child.Stdin and closes (Node's
// child.stdin), the only Stdio entry Exec reads.
//
// Each of stdout and stderr keeps at most MaxBuffer bytes (1 MiB by
// default); past that the child is sent KillSignal and the error has code
// CodeMaxBuffer. Exec reads the fields of Options that every entry point
// reads, Shell, and Stdio[0] (see above); it ignores the rest of Stdio
// and Argv0, as Node does, and the fields of Fork.
func Exec(ctx context.Context, command string, opts *Options) (*Child, error) {
	if err := checkCommand("command", command, nil); err != nil {
		return nil, err
	}
	set, err := check(opts)
	if err != nil {
		return nil, err
	}
	sp := shellSpec("spawn", command, set)
	sp.buffered, sp.stdio = true, execStdin(set) // Node's exec ignores stdio
	c, serr := start(ctx, sp)
	if serr != nil {
		return nil, serr
	}
	return c, nil
}

// ExecFile runs file with args, without a shell unless [Options.Shell] is
// set, and buffers its output like Exec: Node's execFile. Its stdin is
// as Exec's: the null device unless [Options.Input] is set or Stdio[0] is
// Pipe.
func ExecFile(ctx context.Context, file string, args []string, opts *Options) (*Child, error) {
	sp, err := execFileSpec(file, args, opts)
	if err != nil {
		return nil, err
	}
	c, serr := start(ctx, sp)
	if serr != nil {
		return nil, serr
	}
	return c, nil
}

// CombinedOutput runs file with args as ExecFile does and returns what
// it wrote to stdout and stderr together, in the order it wrote it: both
// are one pipe, as with os/exec's CombinedOutput or a shell's 2>&1. At
// most MaxBuffer bytes are kept, of both together; past that the child
// is stopped and the error has code CodeMaxBuffer. The error is Wait's,
// whose Stdout and Stderr both hold the combined output.
func CombinedOutput(ctx context.Context, file string, args []string, opts *Options) ([]byte, error) {
	sp, err := execFileSpec(file, args, opts)
	if err != nil {
		return nil, err
	}
	sp.combined = true
	c, serr := start(ctx, sp)
	if serr != nil {
		return nil, serr
	}
	out, _, werr := c.Output()
	return out, werr
}

// execFileSpec checks the arguments of ExecFile and CombinedOutput and
// returns the spec they start: buffered, with Exec's stdin.
func execFileSpec(file string, args []string, opts *Options) (*spec, *Error) {
	if err := checkCommand("file", file, args); err != nil {
		return nil, err
	}
	set, err := check(opts)
	if err != nil {
		return nil, err
	}
	sp := newSpec("spawn", file, args, set)
	sp.buffered, sp.stdio = true, execStdin(set) // Node's execFile ignores stdio
	return sp, nil
}

// execStdin is the stdin of Exec and ExecFile: a pipe when Input feeds it
// or Stdio[0] asks for one, else the null device.
func execStdin(set *settings) []any {
	if set.Input != nil || len(set.Stdio) > 0 && set.Stdio[0] != nil && isPipeEntry(set.Stdio, 0) {
		return []any{Pipe}
	}
	return []any{Ignore}
}
