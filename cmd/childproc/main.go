// Command childproc runs many commands the way childproc runs one: every
// job a child that is reaped, stopped gracefully (TERM, then KILL) and
// never left running after childproc itself has gone.
//
// Usage:
//
//	childproc parallel [options] command [::: args ...]   run jobs, GNU parallel's interface
//	childproc run [options] 'cmd1' 'cmd2' ...             run long-running commands side by side
//	childproc worker [--cluster [URL]] [-j N]             run the jobs of parallel --cluster on this machine
//	childproc help [command]
//
// Each subcommand documents its flags with --help.
package main

import (
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/mattn/go-isatty"

	"github.com/childproc/childproc"
)

// A command is one subcommand of childproc.
type command struct {
	summary string
	// main runs the subcommand with the arguments that follow its name
	// and returns the exit status.
	main func(args []string, stdin io.Reader, stdout, stderr io.Writer) int
	// usage writes the subcommand's --help text.
	usage func(w io.Writer)
}

// commands holds the subcommands by name; each file that implements one
// adds it from an init function.
var commands = map[string]command{}

func main() {
	childproc.RunEntry()
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run dispatches args to a subcommand and returns the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 255
	}
	name, rest := args[0], args[1:]
	switch name {
	case "help", "-h", "--help":
		if len(rest) > 0 {
			if c, ok := commands[rest[0]]; ok {
				c.usage(stdout)
				return 0
			}
			fmt.Fprintf(stderr, "childproc: unknown command %q\n", rest[0])
			return 255
		}
		usage(stdout)
		return 0
	}
	c, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "childproc: unknown command %q (see childproc help)\n", name)
		return 255
	}
	return c.main(rest, stdin, stdout, stderr)
}

// terminal returns w as a file when it is a terminal (a Cygwin one
// included), for the progress line and coloured prefixes.
func terminal(w io.Writer) (*os.File, bool) {
	f, ok := w.(*os.File)
	if !ok || !(isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())) {
		return nil, false
	}
	return f, true
}

// usage lists the subcommands.
func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: childproc command [arguments]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "commands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "  help       show a command's flags: childproc help command")
}
