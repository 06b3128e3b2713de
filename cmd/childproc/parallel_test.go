//go:build linux

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestParallelBadInput: each kind of bad input is one line on stderr
// naming the problem, exit status 255, nothing on stdout, nothing run.
func TestParallelBadInput(t *testing.T) {
	dir := t.TempDir()
	notJoblog := filepath.Join(dir, "notlog")
	os.WriteFile(notJoblog, []byte("hello\n"), 0o666)
	badRow := filepath.Join(dir, "badrow")
	os.WriteFile(badRow, []byte(joblogHeader+"1\t:\tx\n"), 0o666)
	ran := filepath.Join(dir, "ran")
	touch := "touch " + ran
	cases := []struct {
		args []string
		want string // in the message
	}{
		{[]string{"--nope", touch, ":::", "1"}, "unknown flag: --nope"},
		{[]string{"-x", touch, ":::", "1"}, "unknown shorthand flag: 'x'"},
		{[]string{"-j", "x", touch, ":::", "1"}, `-j "x"`},
		{[]string{"-j", "1.5", touch, ":::", "1"}, `-j "1.5"`},
		{[]string{"-j"}, "flag needs an argument"},
		{[]string{touch, "::::", filepath.Join(dir, "missing")}, "no such file"},
		{[]string{"--timeout", "soon", touch, ":::", "1"}, "--timeout"},
		{[]string{"--halt", "later,fail=1", touch, ":::", "1"}, "--halt"},
		{[]string{"--halt", "now,fail=0", touch, ":::", "1"}, "--halt"},
		{[]string{"--delay", "-1", touch, ":::", "1"}, "--delay"},
		{[]string{"--termseq", "TERM,x", touch, ":::", "1"}, "--termseq"},
		{[]string{"--termseq", "NOPE,10", touch, ":::", "1"}, "--termseq"},
		{[]string{"--memory", "lots", touch, ":::", "1"}, "--memory"},
		{[]string{"--retries", "-2", touch, ":::", "1"}, "--retries"},
		{[]string{"--resume", touch, ":::", "1"}, "need --joblog"},
		{[]string{"--resume", "--resume-failed", "--joblog", notJoblog, touch, ":::", "1"}, "give one of them"},
		{[]string{"--resume", "--joblog", notJoblog, touch, ":::", "1"}, "not a joblog"},
		{[]string{"--resume-failed", "--joblog", badRow, touch, ":::", "1"}, "not a joblog row"},
		{[]string{"--resume", "--joblog", dir, touch, ":::", "1"}, "joblog"},
		{[]string{touch + " {= s/x// =}", ":::", "1"}, "{= perl expression =}"},
	}
	for _, c := range cases {
		r := parallel(t, "", c.args...)
		lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
		if r.code != 255 || r.stdout != "" || len(lines) != 1 || !strings.HasPrefix(r.stderr, "childproc parallel: ") || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want 255, no stdout, one line with %q", c.args, r.code, r.stdout, r.stderr, c.want)
		}
		if _, err := os.Stat(ran); err == nil {
			t.Fatalf("%q ran a job", c.args)
		}
	}
}

// directCases are commands that skip the shell (TestDirectRunnerSkips
// checks that they do) with arguments that exercise quoting.
var directCases = []struct{ cmd, arg string }{
	{"echo", "a b"},
	{"echo {} x", "it's"},
	{"env printf '%s|%s\\n' {} \"{}\"", "a  b"},
	{"ls -d /nonexistent-{}", "x y"},
	{"sh -c 'exit 3' {}", "z"},
	{"cat /nonexistent", "q"},
	{"kill-me-not {}", "a"},
}

// TestParallelDirectMatchesShell: a command run without the shell gives
// the same stdout, stderr and exit status as through the shell.
func TestParallelDirectMatchesShell(t *testing.T) {
	for _, c := range directCases {
		args := []string{"parallel", "-k", "--tag", c.cmd, ":::", c.arg, "second"}
		direct := runBin(t, []string{"PARALLEL_SHELL=/bin/sh"}, "", buildChildproc(t), args...)
		shell := runBin(t, []string{"PARALLEL_SHELL=/bin/sh", "CHILDPROC_PARALLEL_DIRECT=0"}, "", buildChildproc(t), args...)
		if direct != shell {
			t.Errorf("%q: without the shell %+v; through it %+v", c.cmd, direct, shell)
		}
	}
}

// TestDirectRunnerSkips: which composed commands run without the shell.
func TestDirectRunnerSkips(t *testing.T) {
	d := newDirectRunner()
	for _, c := range []struct {
		cmd    string
		direct bool
	}{
		{"true", true},
		{"echo a 'b c'", true},
		{`echo "a b" 'it'"'"'s'`, true},
		{"ls -d /x", true},
		{"printf '%s\\n' a", false}, // a builtin
		{"echo -n a", false},        // echo with a flag
		{`echo 'a\b'`, false},       // echo with a backslash
		{"echo $HOME", false},
		{"echo a*", false},
		{"echo ~", false},
		{"echo {a,b}", false},
		{"ls 'a\x00b'", false}, // a NUL byte: the shell path refuses it
		{"echo a; echo b", false},
		{"echo a > f", false},
		{"A=1 env", false},
		{"cd /", false},
		{"no-such-command-xyz a", false},
		{"echo `x`", false},
		{"echo \"$(x)\"", false},
		{"! true", false},
		{"true &", false},
	} {
		path, _ := d.argv(c.cmd)
		if (path != "") != c.direct {
			t.Errorf("%q: direct = %v, want %v", c.cmd, path != "", c.direct)
		}
	}
	for _, c := range directCases[:5] {
		cmd := newTemplate([]string{c.cmd}, false).compose([]string{c.arg}, 1, 1)
		if path, _ := d.argv(cmd); path == "" {
			t.Errorf("%q does not skip the shell", cmd)
		}
	}
}

// TestParallelHelp: --help and -h document every flag on stdout, exit 0.
func TestParallelHelp(t *testing.T) {
	for _, args := range [][]string{{"parallel", "--help"}, {"parallel", "-h"}, {"help", "parallel"}} {
		r := runBin(t, nil, "", buildChildproc(t), args...)
		for _, flag := range []string{"--jobs", "--keep-order", "--joblog", "--resume-failed", "--halt", "--termseq", "--memory", "--json", "Differences from GNU parallel"} {
			if !strings.Contains(r.stdout, flag) {
				t.Errorf("%q: no %s in %q", args, flag, r.stdout)
			}
		}
		if r.code != 0 || r.stderr != "" {
			t.Errorf("%q: exit %d, stderr %q", args, r.code, r.stderr)
		}
	}
}
