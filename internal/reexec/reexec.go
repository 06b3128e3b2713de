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
// child's end of a handoff to attr.Files and Key to attr.Env (replacing
// any value Key had there). It returns the parent's end, with the token
// already written, and the child's end, which the caller closes once the
// child has started.
func Offer(mode Mode, attr *os.ProcAttr) (parent, child *os.File, err error) {
	parent, child, v, err := handoff.Offer(attr)
	if err != nil {
		return nil, nil, err
	}
	attr.Env = append(envlist.Without(attr.Env, Key), Key+"="+string(mode)+":"+v)
	return parent, child, nil
}

// A Claim is what a mode does in a process whose Key names it. It gets
// the handoff's socket when the proof holds; else no socket, and
// handoff.ErrForged when Key named a socket without its token, nil when
// it proved nothing at all. A claim that returns lets the process go on
// to main.
type Claim func(sock *os.File, err error)

// Dispatch removes Key from the environment and, if it names one of
// modes, runs that mode's claim.
func Dispatch(modes map[Mode]Claim) {
	v, ok := os.LookupEnv(Key)
	if !ok {
		return
	}
	os.Unsetenv(Key)
	mode, rest, _ := strings.Cut(v, ":")
	claim := modes[Mode(mode)]
	if claim == nil {
		return
	}
	claim(handoff.Prove(rest))
}
