//go:build unix

package childproc_test

import (
	"errors"
	"runtime"
	"syscall"
	"testing"

	"github.com/childproc/childproc"
)

// ParseSignal reads names in any (ASCII) case, with or without "SIG",
// and numbers in plain decimal only; every other form, and what the
// platform does not know, is CodeUnknownSignal.
func TestParseSignal(t *testing.T) {
	type parsed struct {
		in   string
		want syscall.Signal
	}
	accepted := []parsed{
		{"SIGTERM", syscall.SIGTERM}, {"TERM", syscall.SIGTERM}, {"sigkill", syscall.SIGKILL},
		{"Hup", syscall.SIGHUP}, {"SiGtErM", syscall.SIGTERM}, {"SIGUSR1", syscall.SIGUSR1},
		{"9", syscall.SIGKILL}, {"15", syscall.SIGTERM}, {"1", syscall.SIGHUP}, {"0", 0},
	}
	if runtime.GOOS == "linux" {
		accepted = append(accepted, parsed{"SIGRT34", 34}, parsed{"rt34", 34}, parsed{"34", 34})
	}
	for _, tc := range accepted {
		sig, err := childproc.ParseSignal(tc.in)
		if err != nil || sig != tc.want {
			t.Errorf("ParseSignal(%q) = %v, %v, want %v", tc.in, sig, err, tc.want)
		}
	}
	refused := []string{
		"", "SIG", "NOPE", "SIGNOPE", "SIGSIGTERM", "TERM ", " TERM", "SIG TERM",
		// numbers other than in plain decimal
		"+9", "09", "009", "00", "-0", "+0", " 9", "9 ", "\t9", "9\n", "-9", "-1", "0x9",
		"0o11", "0b1001", "1_5", "9.0", "1e1", "\uff19", "SIG9", "SIG+9", "SIGRT034", "SIGRT+34",
		// numbers that name no signal
		"999", "99999999999999999999",
		// names that match only through Unicode case folding
		"\u017figterm", "s\u0131gterm", "S\u0130GTERM",
	}
	for _, in := range refused {
		sig, err := childproc.ParseSignal(in)
		if sig != nil {
			t.Errorf("ParseSignal(%q) = %v, want none", in, sig)
		}
		var e *childproc.Error
		if !errors.As(err, &e) || e.Code != childproc.CodeUnknownSignal || e.Error() != "Unknown signal: "+in {
			t.Errorf("ParseSignal(%q): %v, want code %s, \"Unknown signal: %s\"", in, err, childproc.CodeUnknownSignal, in)
		}
	}
}
