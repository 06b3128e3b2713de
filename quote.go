package childproc

import "strings"

// QuoteShell quotes each argument for a POSIX shell (sh, bash, zsh) and
// joins them with spaces, so that the shell sees each one as one word,
// whatever it holds. Exec, and [Options.Shell], join a command's arguments
// unquoted, as Node's shell option does; quote what comes from outside:
//
//	childproc.Exec(ctx, "grep -n "+childproc.QuoteShell(pattern, file)+" | head", nil)
//
// An argument of letters, digits and _@%+=:,./- only is left as it is;
// any other is put in single quotes. It is not for cmd.exe, Windows'
// DefaultShell, whose quoting rules differ.
func QuoteShell(args ...string) string {
	var b strings.Builder
	for i, a := range args {
		if i > 0 {
			b.WriteByte(' ')
		}
		if a != "" && strings.Trim(a, shellSafe) == "" {
			b.WriteString(a)
			continue
		}
		b.WriteByte('\'')
		b.WriteString(strings.ReplaceAll(a, "'", `'\''`))
		b.WriteByte('\'')
	}
	return b.String()
}

// shellSafe are the bytes a POSIX shell takes as part of a word in every
// position.
const shellSafe = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@%+=:,./-"
