package main

import (
	"os"
	"strings"
)

// stopSignals are the signals that make childproc run stop every command,
// and childproc parallel stop every job and exit.
var stopSignals = []os.Signal{os.Interrupt}

// defaultKillSignal stops the other commands (--kill-signal's default);
// killSignal is the forced kill. Windows can only kill.
var defaultKillSignal, killSignal os.Signal = os.Kill, os.Kill

// signalByName returns the signal named name: on Windows only SIGKILL
// and SIGTERM, which both kill.
func signalByName(name string) (os.Signal, bool) {
	switch strings.TrimPrefix(strings.ToUpper(name), "SIG") {
	case "KILL", "TERM":
		return os.Kill, true
	}
	return nil, false
}

// signalName returns sig's name.
func signalName(sig os.Signal) string {
	if sig == os.Kill {
		return "SIGKILL"
	}
	return "SIGINT"
}

// exitBySignal returns the exit status after a stop signal: 1.
func exitBySignal(os.Signal) int { return 1 }
