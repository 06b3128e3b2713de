//go:build unix

package main

import (
	"os"
	"os/signal"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// stopSignals are the signals that make childproc run stop every command
// with the same signal, and childproc parallel stop every job and exit.
var stopSignals = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP}

// defaultKillSignal stops the other commands (--kill-signal's default);
// killSignal is the forced kill.
var defaultKillSignal, killSignal os.Signal = syscall.SIGTERM, syscall.SIGKILL

// signalByName returns the signal named name ("SIGTERM", "TERM", "term"),
// as signalNamed reads it (childproc.ParseSignal).
func signalByName(name string) (os.Signal, bool) { return signalNamed(name) }

// signalName returns sig's name, such as "SIGTERM".
func signalName(sig os.Signal) string {
	if s, ok := sig.(syscall.Signal); ok {
		if name := unix.SignalName(s); name != "" {
			return name
		}
	}
	return sig.String()
}

// exitBySignal ends this process by sig, with its default action, so
// that a shell running childproc sees it killed by the signal it was sent
// (and a script stops on Ctrl-C). It returns 128+sig, the shell's status
// for it, only if the process is still alive a second later.
func exitBySignal(sig os.Signal) int {
	s := sig.(syscall.Signal)
	signal.Reset(s)
	syscall.Kill(os.Getpid(), s)
	time.Sleep(time.Second)
	return 128 + int(s)
}
