package childproc

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// ParseSignal returns the signal that name stands for: a name in any
// ASCII case, with or without its "SIG" ("SIGTERM", "TERM", "sigterm"), or
// a number in plain decimal, without a sign, spaces or leading zeros
// ("15", and "0", the signal that only checks), as kill(1) takes them.
// Any other form ("+15", "015", " 15", "0xf"), a name the platform does
// not know, or a number it has no name for, is an *Error with code
// CodeUnknownSignal.
func ParseSignal(name string) (os.Signal, error) {
	if n, ok := decimal(name); ok {
		if s := syscall.Signal(n); n == 0 || signalName(s) != "" {
			return s, nil
		}
	} else if s := signalNumber("SIG" + strings.TrimPrefix(asciiUpper(name), "SIG")); s != 0 {
		return s, nil
	}
	return nil, argError(CodeUnknownSignal, "Unknown signal: "+name)
}

// decimal returns the number that s spells in plain decimal: digits only,
// the first of them not 0 unless it is the only one.
func decimal(s string) (int, bool) {
	n, err := strconv.Atoi(s)
	return n, err == nil && n >= 0 && strconv.Itoa(n) == s
}

// asciiUpper returns s with its ASCII letters in upper case, and nothing
// else changed: no other letter turns into one of a signal's name.
func asciiUpper(s string) string {
	return strings.Map(func(r rune) rune {
		if 'a' <= r && r <= 'z' {
			return r - 'a' + 'A'
		}
		return r
	}, s)
}

// checkSignal rejects a signal the platform does not know; signal 0 is
// known.
func checkSignal(sig os.Signal) *Error {
	if s, ok := sig.(syscall.Signal); ok && (s == 0 || signalName(s) != "") {
		return nil
	}
	return argError(CodeUnknownSignal, "Unknown signal: "+sig.String())
}

// sysSignal returns sig as a syscall.Signal, or 0 when it is not one.
func sysSignal(sig os.Signal) syscall.Signal {
	s, _ := sig.(syscall.Signal)
	return s
}

// killError turns a failed signal delivery into an *Error.
func killError(err error) *Error {
	if errors.Is(err, os.ErrProcessDone) {
		return &Error{Code: "ESRCH", Errno: syscall.ESRCH, Syscall: "kill", ExitCode: -1, Err: err, msg: "kill ESRCH: the child has already exited"}
	}
	return sysError("kill", "", err)
}
