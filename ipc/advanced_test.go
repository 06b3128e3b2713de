package ipc_test

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os/exec"
	"sort"
	"testing"

	"github.com/childproc/childproc/ipc"
)

// nodeSerializations runs Node's child_process serializer over every
// case of testdata/advanced_cases.js.
func nodeSerializations(t *testing.T) map[string][]byte {
	t.Helper()
	out, err := exec.Command("node", "testdata/advanced_dump.js").Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	var hexes map[string]string
	if err := json.Unmarshal(out, &hexes); err != nil {
		t.Fatal(err)
	}
	got := map[string][]byte{}
	for name, h := range hexes {
		got[name], _ = hex.DecodeString(h)
	}
	if len(got) != len(advancedCases) {
		t.Fatalf("node has %d cases, Go %d", len(got), len(advancedCases))
	}
	return got
}

func payload(t *testing.T, v any) []byte {
	t.Helper()
	frame, err := ipc.Advanced.AppendFrame(nil, v)
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	return frame[4:]
}

func short(b []byte) string {
	if len(b) > 64 {
		return hex.EncodeToString(b[:64]) + "…"
	}
	return hex.EncodeToString(b)
}

// Every case decodes from Node's bytes to the Go value, and the Go value
// encodes to Node's bytes.
func TestAdvancedMatchesNodeSerializer(t *testing.T) {
	node := nodeSerializations(t)
	names := make([]string, 0, len(node))
	for name := range node {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		c, ok := advancedCases[name]
		if !ok {
			t.Errorf("%s: no Go case", name)
			continue
		}
		var got any
		if err := ipc.Advanced.Unmarshal(node[name], &got); err != nil {
			t.Errorf("%s: decode %s: %v", name, short(node[name]), err)
			continue
		}
		if !sameJS(got, c.value()) {
			t.Errorf("%s: decoded %.200v, want %.200v", name, got, c.value())
		}
		if c.unreadable {
			if _, err := ipc.Advanced.AppendFrame(nil, c.value()); !errors.Is(err, ipc.ErrNotSerializable) {
				t.Errorf("%s: Go sends what Node cannot read (err %v)", name, err)
			}
			continue
		}
		if c.loose {
			continue
		}
		if p := payload(t, c.value()); !bytes.Equal(p, node[name]) {
			t.Errorf("%s: Go writes\n%s\nNode writes\n%s", name, short(p), short(node[name]))
		}
	}
}
