//go:build linux

package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// gnuCases are invocations whose stdout and exit status childproc
// parallel must share with GNU parallel, byte for byte (sorted when the
// output order is not fixed).
var gnuCases = []struct {
	name  string
	stdin string
	args  []string
}{
	{"dirname and basename", "", []string{"-k", "echo", "{//}", "{/}", "{.}", "{/.}", ":::", "a", "/", "a/b/", ".hidden", "a/b.c/d.e", "x.tar.gz", "/x/y.z", "a.", "a..b"}},
	{"quoting", "", []string{"-k", "echo", ":::", "a b", "", "it's", "a$b", "A+-_./9", "x,y", "a=b", "~a", "a@b", "a%", "a:b", "é", `a\b`, "a*", "a;b", "$(echo no)", "`x`", `"q"`}},
	{"quoting in a word", "", []string{"-k", "echo x{}y \"{}\" {.}", ":::", "a b", "c$d.e"}},
	{"first word replaced, nothing quoted", "", []string{"-k", "{}", ":::", "echo a   b", "echo 'c  d'"}},
	{"first word holds a replacement string", "", []string{"-k", "ec{}", ":::", "ho a  b"}},
	{"no command: arguments are commands", "", []string{"-k", ":::", "echo a", "echo b; echo c"}},
	{"arguments appended", "", []string{"-k", "echo", "x", ":::", "a b", "c"}},
	{"sources combined", "", []string{"-k", "echo", ":::", "a", "b", ":::", "1", "2", "3"}},
	{"sources linked", "", []string{"-k", "--link", "echo", ":::", "a", "b", "c", ":::", "1", "2"}},
	{"source linked with :::+", "", []string{"-k", "echo", ":::", "a", "b", ":::+", "1", "2", ":::", "x", "y"}},
	{"positional", "", []string{"-k", "echo", "{2}-{1}-{3}", "{2/}", "{1.}", ":::", "a.x", "b.y", ":::", "p/q r"}},
	{"job number", "", []string{"-k", "echo", "{#}", "{}", ":::", "a", "b", "c"}},
	{"stdin lines", "l1\nl 2\n\nlast", []string{"-k", "echo", "[{}]"}},
	{"stdin and :::: -", "s1\ns2\n", []string{"-k", "echo", "::::", "-", ":::", "z"}},
	{"-q", "", []string{"-k", "-q", "printf", "%s|%s\n", "{} y", "x", ":::", "a b", "c"}},
	{"-q keeps $", "", []string{"-k", "-q", "echo", "$HOME", "{}", ":::", "a"}},
	{"shell syntax", "", []string{"-k", "echo {} | tr a-z A-Z; echo $((1+{}))", ":::", "1", "2"}},
	{"group: stdout then stderr", "", []string{"-k", "echo out{}; echo err{} >&2; echo out2{}", ":::", "1", "2"}},
	{"tag", "", []string{"-k", "--tag", "echo out; printf noeol", ":::", "a", ":::", "b c"}},
	{"tagstring", "", []string{"-k", "--tagstring", "T{#}-{}", "echo x", ":::", "a", "b"}},
	{"tag: an argument with newlines is one a line", "", []string{"-k", "--tag", "echo x; echo y >&2", ":::", "a\nb", "c\n", "\n", "d"}},
	{"tagstring: an argument with a newline", "", []string{"-k", "--tagstring", "<{}>", "echo", "{#}", ":::", "a\nb", ":::", "1\n2"}},
	{"line-buffer tag: an argument with a newline", "", []string{"-j1", "--line-buffer", "--tag", "echo", ":::", "a\nb"}},
	{"linked: an argument with a newline", "", []string{"-k", "--link", "echo", ":::", "a\nb", ":::", "1", "2", "3"}},
	{"unordered", "", []string{"-j4", "echo", ":::", "1", "2", "3", "4", "5", "6", "7", "8"}},
	{"line-buffer", "", []string{"--line-buffer", "echo {}; echo x{}", ":::", "1", "2", "3"}},
	{"dry-run", "", []string{"--dry-run", "echo", "{}", "{#}", ":::", "a b", "c"}},
	{"dry-run -q", "", []string{"--dry-run", "-q", "echo", "{} y", "x", ":::", "a b"}},
	{"shell-quote", "", []string{"--shell-quote", ":::", "a b", "c'd", "e"}},
	{"empty input", "", []string{"echo", "x"}},
	{"-j 1 in order", "", []string{"-j1", "echo", ":::", "3", "1", "2"}},
	{"-j 50%", "", []string{"-j", "50%", "-k", "echo", ":::", "a", "b"}},
	{"-j -1", "", []string{"-j", "-1", "-k", "echo", ":::", "a", "b"}},
	{"-j +1", "", []string{"-j", "+1", "-k", "echo", ":::", "a", "b"}},
	{"-j 0", "", []string{"-j", "0", "-k", "echo", ":::", "a", "b"}},
	{"exit status counts failures", "", []string{"-k", "exit", ":::", "0", "1", "2", "0", "3"}},
	{"exit status at most 101", "", []string{"exit 1", ":::", strings.Repeat("x ", 110)[:219]}},
	{"killed by a signal is a failure", "", []string{"-k", "kill -9 $$", ":::", "1", "2"}},
	{"command not found", "", []string{"-k", "no-such-command-xyz", ":::", "1"}},
	{"retries: only the last attempt", "", []string{"-k", "--retries", "3", "echo try; exit 1", ":::", "a"}},
	{"halt now,fail=1", "", []string{"-j1", "--halt", "now,fail=1", "echo {}; exit {}", ":::", "0", "3", "4"}},
	{"halt now,fail=1 killed", "", []string{"-j1", "--halt", "now,fail=1", "kill -9 $$", ":::", "1", "2"}},
	{"halt soon,fail=2", "", []string{"-j1", "--halt", "soon,fail=2", "echo {}; exit {}", ":::", "1", "0", "2", "3", "4"}},
	{"halt now,fail=20%", "", []string{"-j1", "--halt", "now,fail=20%", "echo {}; exit {}", ":::", "0", "1", "2", "0", "0", "0", "0", "0"}},
	{"halt now,success=1", "", []string{"-j1", "--halt", "now,success=1", "echo {}; exit {}", ":::", "1", "0", "2"}},
	{"halt now,done=2", "", []string{"-j1", "--halt", "now,done=2", "echo {}; exit {}", ":::", "1", "0", "2"}},
	{"halt 2", "", []string{"-j1", "--halt", "2", "echo {}; exit {}", ":::", "0", "3", "4"}},
	{"halt 1", "", []string{"-j1", "--halt", "1", "echo {}; exit {}", ":::", "0", "3", "4"}},
}

// TestParallelMatchesGNU runs each case through childproc parallel and
// GNU parallel (when installed) and compares stdout and exit status.
func TestParallelMatchesGNU(t *testing.T) {
	if _, err := exec.LookPath("parallel"); err != nil {
		t.Skip("GNU parallel is not installed (apt-get install -y parallel)")
	}
	env := []string{"PARALLEL_SHELL=/bin/sh"}
	for _, c := range gnuCases {
		t.Run(c.name, func(t *testing.T) {
			ours := runBin(t, env, c.stdin, buildChildproc(t), append([]string{"parallel"}, c.args...)...)
			gnu := runBin(t, env, c.stdin, "parallel", append([]string{"--will-cite"}, c.args...)...)
			if !slices.Contains(c.args, "-k") && !slices.Contains(c.args, "-j1") {
				ours.stdout, gnu.stdout = sortLines(ours.stdout), sortLines(gnu.stdout)
			}
			if ours.stdout != gnu.stdout || ours.code != gnu.code {
				t.Errorf("childproc parallel %q:\nstdout %q, exit %d; GNU parallel: stdout %q, exit %d\nour stderr: %s",
					c.args, ours.stdout, ours.code, gnu.stdout, gnu.code, ours.stderr)
			}
		})
	}
}

func sortLines(s string) string {
	lines := strings.SplitAfter(s, "\n")
	slices.Sort(lines)
	return strings.Join(lines, "")
}
