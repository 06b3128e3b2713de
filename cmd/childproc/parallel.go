package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

func init() {
	commands["parallel"] = command{
		summary: "run a command for many arguments, N at a time (GNU parallel's interface)",
		main:    parallelMain,
		usage:   parallelUsage,
	}
}

// parallelMain runs childproc parallel and returns its exit status: the
// number of failed jobs (at most 101), what --halt says, or 255 for bad
// input, an error, or a stop by a signal.
func parallelMain(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	o, err := parseParallel(args)
	if errors.Is(err, errHelp) {
		parallelUsage(stdout)
		return 0
	}
	if err != nil {
		return failParallel(stderr, err)
	}
	// Resuming, --halt in percent and the progress line need the total
	// first; otherwise jobs start as the input comes.
	readAll := o.resume != resumeNone || o.halt.pct > 0 || o.progress
	in, err := openInput(o, stdin, readAll)
	if err != nil {
		return failParallel(stderr, err)
	}
	if o.dryRun || o.shellQuote {
		return printCommands(o, in, stdout, stderr)
	}
	r := newJobRunner(o, stdout, stderr)
	if readAll {
		all, err := collect(in)
		if err != nil {
			return failParallel(stderr, err)
		}
		r.total = len(all)
		in = &sliceIter{all: all}
		if o.progress {
			r.prog = newProgressLine(stderr, r.total)
		}
		if o.resume != resumeNone {
			if r.log, r.logRows, err = openJoblog(o.joblog, o.resume); err != nil {
				return failParallel(stderr, err)
			}
			if err := r.checkResume(all); err != nil {
				r.log.Close()
				return failParallel(stderr, err)
			}
		}
	}
	if o.joblog != "" && r.log == nil {
		if r.log, _, err = openJoblog(o.joblog, o.resume); err != nil {
			return failParallel(stderr, err)
		}
	}
	var status int
	if o.cluster.url != "" {
		status = r.runCluster(in)
	} else {
		status = r.runAll(in)
	}
	if r.log != nil {
		if err := r.log.Close(); err != nil {
			return failParallel(stderr, fmt.Errorf("joblog: %w", err))
		}
	}
	return status
}

// failParallel reports an error on one line and returns 255.
func failParallel(stderr io.Writer, err error) int {
	fmt.Fprintf(stderr, "childproc parallel: %s\n", strings.ReplaceAll(err.Error(), "\n", " "))
	return 255
}

// checkResume refuses a joblog that the input no longer matches: a job
// whose command differs from the one the joblog has for its number, or
// a job number past the input's end. GNU parallel matches jobs by number
// only, and would skip or rerun the wrong ones.
func (r *jobRunner) checkResume(all [][]string) error {
	for seq, row := range r.logRows {
		if seq > len(all) {
			return fmt.Errorf("joblog %s does not match the input: it has job %d, the input makes %d jobs (remove the joblog to start afresh)", r.o.joblog, seq, len(all))
		}
		if r.tmpl.usesSlot() {
			continue // {%} differs from run to run
		}
		if cmd := logCommand(r.tmpl.compose(all[seq-1], seq, 1)); cmd != row.command {
			return fmt.Errorf("joblog %s does not match the input: job %d ran %q, the input now makes it %q (remove the joblog to start afresh)", r.o.joblog, seq, row.command, cmd)
		}
	}
	return nil
}

// printCommands is --dry-run (each job's command) and --shell-quote
// (each job's arguments, quoted).
func printCommands(o *parallelOptions, in inputIter, stdout, stderr io.Writer) int {
	t := newTemplate(o.command, o.quote)
	for seq := 1; ; seq++ {
		args, err := in.next()
		if err == io.EOF {
			return 0
		}
		if err != nil {
			return failParallel(stderr, err)
		}
		var line string
		if o.shellQuote {
			q := make([]string, len(args))
			for i, a := range args {
				q[i] = shellQuote(a)
			}
			line = strings.Join(q, " ")
		} else {
			line = t.compose(args, seq, o.nominalSlot(seq))
		}
		if _, err := fmt.Fprintln(stdout, line); err != nil {
			return failParallel(stderr, err)
		}
	}
}

// collect reads every job's arguments.
func collect(in inputIter) ([][]string, error) {
	var all [][]string
	for {
		args, err := in.next()
		if err == io.EOF {
			return all, nil
		}
		if err != nil {
			return nil, err
		}
		all = append(all, args)
	}
}

// sliceIter yields arguments read beforehand.
type sliceIter struct {
	all [][]string
	i   int
}

func (s *sliceIter) next() ([]string, error) {
	if s.i == len(s.all) {
		return nil, io.EOF
	}
	s.i++
	return s.all[s.i-1], nil
}

// parallelUsage writes childproc parallel's --help.
func parallelUsage(w io.Writer) {
	fmt.Fprint(w, `usage: childproc parallel [options] [command [args]] [::: args... | :::: files...]...

Runs command once for each argument, N at a time, with GNU parallel's
flags, replacement strings and exit status. Each job is a childproc child:
stopping it (--timeout, --halt now, Ctrl-C) stops its whole process tree
(--termseq), and when childproc itself is killed, even with SIGKILL, no job
is left running.

Input: ::: args (several ::: give every combination; --link or :::+ pairs
them), :::: files (a file of lines each; - is stdin), -a file; else the
lines of stdin.

Replacement strings: {} the argument, {.} without extension, {/} base name,
{//} directory, {/.} base name without extension, {#} job number, {%} slot,
{n} {n.} {n/} {n//} {n/.} the n-th input source. Arguments are shell-quoted
unless the command's first word holds a replacement string; with none the
arguments are appended.

A job runs through $PARALLEL_SHELL (else $SHELL, else /bin/sh), except that a
command that is one simple command of literal words, naming a program in
PATH, is executed directly, with the same result and no shell to start
(CHILDPROC_PARALLEL_DIRECT=0 in the environment runs every job through the
shell).

Exit status: the number of failed jobs (at most 101), or as --halt says;
255 for bad input, other errors, and a stop by SIGINT, SIGTERM or SIGHUP.

Options:
`)
	fs, _ := newParallelFlags(&parallelOptions{})
	fmt.Fprint(w, fs.FlagUsagesWrapped(80))
	fmt.Fprint(w, `
Differences from GNU parallel: --retries 0 means one attempt (GNU retries
forever); --bar, --eta and --progress draw the same line; --resume and
--resume-failed refuse a joblog whose commands the input no longer makes;
the default --termseq is GNU's; --line-buffer with -k prints as --group -k.
A job ends when its process exits, as in GNU; when a process it left in the
background still holds its stdout or stderr, what it writes from 200 ms
after that exit on is lost, and it is stopped with the termseq before
childproc exits (GNU too stops it when it exits).
Beyond GNU: --memory, --cpu, --files cap each job; --json prints one JSON
object per finished job.

Across machines (instead of GNU's -S over ssh): with --cluster, the jobs go
to a NATS JetStream queue, and each machine's childproc worker runs them
(childproc worker --help). A job runs there as it would here (--timeout,
--termseq, --retries, --memory, --cpu, --files), through that machine's
shell and environment; its output comes back whole and is printed here, in
input order (as with -k), and the joblog is written here, its Host column
naming the worker. --cluster without a URL, or --cluster local, starts this
user's embedded server (or joins the one running), which the workers of
this machine join with no arguments. A job whose worker dies runs again on
another; its output is printed once. --batch NAME keeps the jobs and their
results in the server, so that after a crash --resume --batch NAME collects
what finished meanwhile and submits only what never was. {%} and
PARALLEL_JOBSLOT count -j slots as --dry-run shows them. --line-buffer and
--ungroup do not go with --cluster. --halt now and a signal stop the jobs
running on workers (with the termseq) and remove those queued; those of a
--batch go on in the cluster, for --resume. --halt soon lets the jobs
already submitted end.
`)
}
