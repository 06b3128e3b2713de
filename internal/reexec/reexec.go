package reexec

import (
	"os"
	"strings"

	"github.com/childproc/childproc/internal/envlist"
	"github.com/childproc/childproc/internal/handoff"
)

// Key is the environment variable that names a re-executed process's
// mode and its handoff.
const Key = "CHILDPROC_REEXEC"

// A Mode is one of childproc's own modes, as Key names it.
type Mode string

// The modes.
const (
	Guardian Mode = "guardian" // stops this process's children once it is gone
	Shim     Mode = "shim"     // sets a child's limits and credentials, then executes it
	Entry    Mode = "entry"    // a Go entry point, forked by ForkEntry
)

// Offer prepares attr so that the child can claim mode: it appends the
// child's end of a handoff to attr.Files and sets Key in attr.Env. A mode
// offered for a child that will execute another (the shim, for a forked
// entry) comes first in Key's value, the other after it
// ("shim:4:<token>,entry:3:<token>"), for the shim to hand on (see
// HandOn). It returns the parent's end, with the token already written,
// and the child's end, which the caller closes once the child has
// started.
func Offer(mode Mode, attr *os.ProcAttr) (parent, child *os.File, err error) {
	parent, child, v, err := handoff.Offer(attr)
	if err != nil {
		return nil, nil, err
	}
	v = string(mode) + ":" + v
	if then, ok := lookup(attr.Env); ok {
		v += "," + then
	}
	attr.Env = append(envlist.Without(attr.Env, Key), Key+"="+v)
	return parent, child, nil
}

// lookup returns Key's last value in env.
func lookup(env []string) (string, bool) {
	for i := len(env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(env[i], Key+"="); ok {
			return v, true
		}
	}
	return "", false
}

// next is what Key's value held after this process's own mode: the
// handoffs of the program it executes.
var next string

// HandOn returns env with the handoffs that this process was given for
// the program it executes (the shim's target), if any.
func HandOn(env []string) []string {
	if next == "" {
		return env
	}
	return append(envlist.Without(env, Key), Key+"="+next)
}

// A Claim is what a mode does in a process whose Key names it. It gets
// the handoff's socket when the proof holds; else no socket, and
// handoff.ErrForged when Key named a socket without its token, nil when
// it proved nothing at all. A claim that returns lets the process go on
// to main.
type Claim func(sock *os.File, err error)

// Dispatch removes Key from the environment and, if its first mode is
// one of modes, runs that mode's claim; the rest of its value is kept
// for HandOn.
func Dispatch(modes map[Mode]Claim) {
	v, ok := os.LookupEnv(Key)
	if !ok {
		return
	}
	os.Unsetenv(Key)
	v, next, _ = strings.Cut(v, ",")
	mode, rest, _ := strings.Cut(v, ":")
	claim := modes[Mode(mode)]
	if claim == nil {
		return
	}
	claim(handoff.Prove(rest))
}
