package childproc

import "context"

// Exec runs command through a shell (Options.Shell, or DefaultShell, even
// when Shell is "") and buffers its output: Node's exec. It returns once
// the child has started; Output then waits and returns (stdout, stderr,
// error), Node's callback. Stdin is a pipe unless Options.Input is set.
//
// Each of stdout and stderr keeps at most MaxBuffer bytes (1 MiB by
// default); past that the child is sent KillSignal and the error has code
// CodeMaxBuffer. Exec reads the fields of Options that every entry point
// reads, and Shell (see Options); it ignores Stdio and Argv0, as Node
// does, and the fields of Fork.
func Exec(ctx context.Context, command string, opts *Options) (*Child, error) {
	if err := checkCommand("command", command, nil); err != nil {
		return nil, err
	}
	set, err := check(opts)
	if err != nil {
		return nil, err
	}
	sp := newSpec("spawn", command, nil, set, true, false)
	sp.buffered, sp.stdio = true, nil // Node's exec ignores stdio
	c, serr := start(ctx, sp)
	if serr != nil {
		return nil, serr
	}
	return c, nil
}

// ExecFile runs file with args, without a shell unless Options.Shell is
// set, and buffers its output like Exec: Node's execFile.
func ExecFile(ctx context.Context, file string, args []string, opts *Options) (*Child, error) {
	if err := checkCommand("file", file, args); err != nil {
		return nil, err
	}
	set, err := check(opts)
	if err != nil {
		return nil, err
	}
	sp := newSpec("spawn", file, args, set, false, false)
	sp.buffered, sp.stdio = true, nil // Node's execFile ignores stdio
	c, serr := start(ctx, sp)
	if serr != nil {
		return nil, serr
	}
	return c, nil
}
