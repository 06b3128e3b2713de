//go:build unix

package handoff

import (
	"os"
	"strings"
	"testing"
)

func TestParseHandoff(t *testing.T) {
	tok := strings.Repeat("ab", tokenLen/2)
	for _, tc := range []struct {
		v  string
		ok bool
	}{
		{"3:" + tok, true},
		{"17:" + tok, true},
		{"2:" + tok, false},
		{"03:" + tok, false},
		{"+3:" + tok, false},
		{"4294967299:" + tok, false}, // 2^32+3, which a C int would take as 3
		{"2147483648:" + tok, false},
		{"3:" + strings.ToUpper(tok), false},
		{"3:" + tok[1:], false},
		{"3:" + tok + "0", false},
		{"3" + tok, false},
		{"", false},
	} {
		if _, _, ok := parseHandoff(tc.v); ok != tc.ok {
			t.Errorf("parseHandoff(%q) ok = %v, want %v", tc.v, ok, tc.ok)
		}
	}
}

// FuzzHandoff: whatever the environment holds, parsing never panics and
// accepts only what Offer writes.
func FuzzHandoff(f *testing.F) {
	f.Add("3:" + strings.Repeat("0f", tokenLen/2))
	f.Add("x:y")
	f.Fuzz(func(t *testing.T, v string) {
		fd, tok, ok := parseHandoff(v)
		if ok && v != itoa(fd)+":"+tok {
			t.Fatalf("accepted non-canonical %q", v)
		}
	})
}

func itoa(n int) string {
	var b []byte
	for {
		b = append([]byte{byte('0' + n%10)}, b...)
		if n /= 10; n == 0 {
			return string(b)
		}
	}
}

// TestHandoffProve: a proof succeeds on the socket the parent offered,
// and fails on a value without it, a wrong token, or a descriptor that is
// not a socket.
func TestHandoffProve(t *testing.T) {
	attr := &os.ProcAttr{Files: []*os.File{os.Stdin, os.Stdout, os.Stderr}}
	parent, child, v, err := Offer(attr)
	if err != nil {
		t.Fatal(err)
	}
	defer parent.Close()
	defer child.Close()
	_, tok, ok := parseHandoff(v)
	if !ok {
		t.Fatalf("offer wrote %q", v)
	}
	if attr.Files[len(attr.Files)-1] != child {
		t.Fatal("offer did not hand the child its end")
	}
	cfd := itoa(int(child.Fd()))
	r, w, _ := os.Pipe()
	defer r.Close()
	defer w.Close()
	for _, bad := range []struct {
		v    string
		want error // Prove's verdict
	}{
		{cfd + ":" + strings.Repeat("0", tokenLen), ErrForged}, // the socket, a wrong token
		{itoa(int(r.Fd())) + ":" + tok, nil},                   // not a socket
		{"garbage", nil},
	} {
		if f, err := Prove(bad.v); f != nil || err != bad.want {
			t.Errorf("proof of %q: %v, %v; want no socket and %v", bad.v, f, err, bad.want)
		}
	}
	f, err := Prove(cfd + ":" + tok)
	if f == nil || err != nil {
		t.Fatalf("proof of the offered socket failed: %v", err)
	}
	if f.Fd() != child.Fd() {
		t.Fatalf("proved fd %d, offered %d", f.Fd(), child.Fd())
	}
	// The token was consumed: what the parent writes next is what the
	// child reads first.
	parent.WriteString("next")
	buf := make([]byte, 4)
	if n, _ := f.Read(buf); string(buf[:n]) != "next" {
		t.Fatalf("after the proof the child read %q", buf[:n])
	}
}
