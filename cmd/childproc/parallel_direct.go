package main

import (
	"os"
	"os/exec"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// directRunner decides which commands can skip the shell: those that are
// one simple command of literal words (plain, or quoted without
// expansions) naming a program found in PATH, which the shell would only
// have split and executed. It is not safe for concurrent use.
type directRunner struct {
	parser *syntax.Parser
	paths  map[string]string // program name → its path, "" when the shell must run it
}

func newDirectRunner() *directRunner {
	return &directRunner{
		parser: syntax.NewParser(syntax.Variant(syntax.LangPOSIX)),
		paths:  map[string]string{},
	}
}

// argv returns the program's path and the argv (argv[0] as written) that
// the shell would run for cmd, or "" when cmd needs the shell.
func (d *directRunner) argv(cmd string) (path string, argv []string) {
	if strings.IndexByte(cmd, 0) >= 0 {
		return "", nil // the shell's path refuses a NUL byte: fail the same way
	}
	words, ok := plainWords(cmd)
	if !ok {
		words, ok = d.literalWords(cmd)
	}
	if !ok || len(words) == 0 || !sameAsBuiltin(words) {
		return "", nil
	}
	path = d.lookPath(words[0])
	if path == "" {
		return "", nil // let the shell report it, in its own words
	}
	return path, words
}

// plainWords splits a command made only of characters that the shell
// takes literally, and spaces: the fast path, which needs no parser.
func plainWords(cmd string) ([]string, bool) {
	for i := 0; i < len(cmd); i++ {
		if cmd[i] != ' ' && !isShellSafe(cmd[i:i+1]) {
			return nil, false
		}
	}
	return strings.Fields(cmd), true
}

// literalWords parses cmd and returns its words when it is a single
// simple command whose words need no expansion: no variables,
// substitutions, globs, tildes, braces, assignments or redirections.
func (d *directRunner) literalWords(cmd string) ([]string, bool) {
	f, err := d.parser.Parse(strings.NewReader(cmd), "")
	if err != nil || len(f.Stmts) != 1 {
		return nil, false
	}
	st := f.Stmts[0]
	call, ok := st.Cmd.(*syntax.CallExpr)
	if !ok || st.Negated || st.Background || st.Coprocess || st.Disown || len(st.Redirs) > 0 || len(call.Assigns) > 0 {
		return nil, false
	}
	words := make([]string, 0, len(call.Args))
	for _, w := range call.Args {
		s, ok := literalWord(w)
		if !ok {
			return nil, false
		}
		words = append(words, s)
	}
	return words, true
}

// literalWord returns the value of a word made of plain text and quotes.
func literalWord(w *syntax.Word) (string, bool) {
	var b strings.Builder
	for _, p := range w.Parts {
		switch p := p.(type) {
		case *syntax.Lit:
			if strings.ContainsAny(p.Value, "\\*?[]{}~") {
				return "", false
			}
			b.WriteString(p.Value)
		case *syntax.SglQuoted:
			if p.Dollar {
				return "", false
			}
			b.WriteString(p.Value)
		case *syntax.DblQuoted:
			if p.Dollar {
				return "", false
			}
			for _, q := range p.Parts {
				lit, ok := q.(*syntax.Lit)
				if !ok || strings.ContainsRune(lit.Value, '\\') {
					return "", false
				}
				b.WriteString(lit.Value)
			}
		default:
			return "", false
		}
	}
	return b.String(), true
}

// sameAsBuiltin reports whether running the program of words from PATH
// does what the shell would do: true unless words[0] is a shell builtin,
// keyword or exported function. true and false behave the same either
// way, and so does echo when no argument starts with "-" or holds a
// backslash (where dash's echo and bash's differ from /bin/echo).
func sameAsBuiltin(words []string) bool {
	name := words[0]
	if os.Getenv("BASH_FUNC_"+name+"%%") != "" {
		return false
	}
	switch name {
	case "true", "false":
		return true
	case "echo":
		for _, a := range words[1:] {
			if strings.HasPrefix(a, "-") || strings.ContainsRune(a, '\\') {
				return false
			}
		}
		return true
	}
	return !shellBuiltins[name]
}

// shellBuiltins are the builtins and keywords of sh, dash and bash.
var shellBuiltins = map[string]bool{}

func init() {
	for _, n := range strings.Fields(`. : [ [[ ]] { } ! alias bg bind break builtin caller case cd command
		compgen complete compopt continue coproc declare dirs disown do done elif else enable
		esac eval exec exit export fc fg fi for function getopts hash help history if in jobs
		kill let local logout mapfile popd printf pushd pwd read readarray readonly return
		select set shift shopt source suspend test then time times trap type typeset ulimit
		umask unalias unset until wait while`) {
		shellBuiltins[n] = true
	}
}

// lookPath finds a program as the shell would, once per name: "" when it
// is not an executable file (the shell then reports the failure).
func (d *directRunner) lookPath(name string) string {
	if p, ok := d.paths[name]; ok {
		return p
	}
	p, err := exec.LookPath(name)
	if err != nil {
		p = ""
	}
	d.paths[name] = p
	return p
}
