//go:build unix

package childproc_test

import (
	"errors"
	"syscall"
	"testing"

	"github.com/childproc/childproc"
)

// ParseSignal reads names in any case, with or without "SIG", and
// numbers; what the platform does not know is CodeUnknownSignal.
func TestParseSignal(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want syscall.Signal
	}{
		{"SIGTERM", syscall.SIGTERM}, {"TERM", syscall.SIGTERM}, {"sigkill", syscall.SIGKILL},
		{"Hup", syscall.SIGHUP}, {"9", syscall.SIGKILL}, {"0", 0}, {"SIGUSR1", syscall.SIGUSR1},
	} {
		sig, err := childproc.ParseSignal(tc.in)
		if err != nil || sig != tc.want {
			t.Errorf("ParseSignal(%q) = %v, %v, want %v", tc.in, sig, err, tc.want)
		}
	}
	for _, in := range []string{"", "SIG", "NOPE", "SIGNOPE", "-1", "999", "TERM ", " 15"} {
		sig, err := childproc.ParseSignal(in)
		if sig != nil {
			t.Errorf("ParseSignal(%q) = %v, want none", in, sig)
		}
		var e *childproc.Error
		if !errors.As(err, &e) || e.Code != childproc.CodeUnknownSignal {
			t.Errorf("ParseSignal(%q): %v, want code %s", in, err, childproc.CodeUnknownSignal)
		}
	}
}
