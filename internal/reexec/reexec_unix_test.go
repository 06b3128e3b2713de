//go:build unix

package reexec

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/childproc/childproc/internal/handoff"
)

// TestDispatch: the offered handoff reaches the claim of the mode it
// names, with its socket; a value naming another mode, no mode, or a
// socket without its token reaches no other claim, and the variable is
// gone from the environment whatever it held.
func TestDispatch(t *testing.T) {
	attr := &os.ProcAttr{Files: []*os.File{os.Stdin, os.Stdout, os.Stderr}, Env: []string{"KEPT=1"}}
	parent, child, err := Offer(Shim, attr)
	if err != nil {
		t.Fatal(err)
	}
	defer parent.Close()
	defer child.Close()
	if len(attr.Env) != 2 || attr.Env[0] != "KEPT=1" || !strings.HasPrefix(attr.Env[1], Key+"=shim:3:") {
		t.Fatalf("offer left the environment %q", attr.Env)
	}
	offered := strings.TrimPrefix(attr.Env[1], Key+"=shim:3:")
	own := strings.TrimPrefix(attr.Env[1], Key+"=shim:3")
	fd := strconv.Itoa(int(child.Fd()))
	type call struct {
		mode Mode
		sock bool
		err  error
	}
	var calls []call
	modes := map[Mode]Claim{}
	for _, m := range []Mode{Guardian, Shim, Entry} {
		modes[m] = func(sock *os.File, err error) { calls = append(calls, call{m, sock != nil, err}) }
	}
	for _, tc := range []struct {
		v    string
		want []call
	}{
		{"probe:" + fd + own, nil},
		{fd + own, nil},
		{"", nil},
		{"entry:" + fd + ":" + strings.Repeat("0", len(offered)), []call{{Entry, false, handoff.ErrForged}}},
		{"guardian:garbage", []call{{Guardian, false, nil}}},
		{"shim:" + fd + own + ",entry:9:" + offered, []call{{Shim, true, nil}}},
	} {
		calls = nil
		t.Setenv(Key, tc.v)
		Dispatch(modes)
		if _, set := os.LookupEnv(Key); set {
			t.Errorf("%q: the variable is still set", tc.v)
		}
		if len(calls) != len(tc.want) || len(calls) == 1 && calls[0] != tc.want[0] {
			t.Errorf("%q: claims %+v, want %+v", tc.v, calls, tc.want)
		}
	}
}

// TestOfferChains: a mode offered for a child that will execute another
// comes first, and the shim hands the other on to its target.
func TestOfferChains(t *testing.T) {
	attr := &os.ProcAttr{Files: []*os.File{os.Stdin, os.Stdout, os.Stderr}, Env: []string{"KEPT=1"}}
	for _, m := range []Mode{Entry, Shim} {
		parent, child, err := Offer(m, attr)
		if err != nil {
			t.Fatal(err)
		}
		defer parent.Close()
		defer child.Close()
	}
	v, _ := lookup(attr.Env)
	shim, entry, _ := strings.Cut(v, ",")
	if len(attr.Env) != 2 || !strings.HasPrefix(shim, "shim:4:") || !strings.HasPrefix(entry, "entry:3:") {
		t.Fatalf("offers left the environment %q", attr.Env)
	}
	t.Setenv(Key, v)
	Dispatch(nil) // fd 4 is the child's: here only the value is read
	if got := HandOn([]string{"KEPT=1", Key + "=stale"}); len(got) != 2 || got[1] != Key+"="+entry {
		t.Errorf("the shim hands on %q, want the entry's %q", got, entry)
	}
}
