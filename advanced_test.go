//go:build unix

package childproc_test

import (
	"context"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/childproc/childproc"
	"github.com/childproc/childproc/ipc"
)

// An entry that answers each message with what it decoded, re-encoded,
// and the channel's serialization.
var advancedEchoEntry = childproc.RegisterEntry("test-advanced-echo", func(ctx context.Context, ch *ipc.Channel, args []string) error {
	for {
		m, err := ch.Recv(ctx)
		if err != nil {
			return nil
		}
		var v any
		if err := m.Decode(&v); err != nil {
			return err
		}
		if err := ch.Send([]any{ch.Codec().Name(), v}); err != nil {
			return err
		}
	}
})

// Serialization "advanced" works on every entry point that makes a
// channel: Fork of a Node module, ForkEntry (the child side through
// ipc.Parent), and Spawn with an IPC entry; and where there is no
// channel it changes nothing.
func TestSerializationAdvanced(t *testing.T) {
	quiet := &childproc.Options{Serialization: "advanced", Stdio: []any{childproc.Ignore, childproc.Ignore, childproc.Ignore}}
	if r := childproc.SpawnSync("true", nil, quiet); r.Err != nil || r.Status != 0 {
		t.Fatalf("SpawnSync without a channel: %v %d", r.Err, r.Status)
	}
	script := filepath.Join(t.TempDir(), "echo.js")
	if err := os.WriteFile(script, []byte(`process.on('message', (m) => process.send([typeof m.n, m.n + 1n, m.m instanceof Map]));
process.on('disconnect', () => process.exit(0));`), 0o644); err != nil {
		t.Fatal(err)
	}
	msg := map[string]any{"n": big.NewInt(41), "m": &ipc.Map{}}
	check := func(t *testing.T, c *childproc.Child, want []any) {
		t.Helper()
		if err := c.Send(msg); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		m, err := c.Recv(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var got []any
		if err := m.Decode(&got); err != nil || len(got) != len(want) {
			t.Fatalf("got %v (%v)", got, err)
		}
		for i := range want {
			if !sameAdvanced(got[i], want[i]) {
				t.Fatalf("got %v, want %v", got, want)
			}
		}
		c.Disconnect()
		if err := waitFor(t, c); err != nil {
			t.Fatal(err)
		}
	}
	nodeWant := []any{"bigint", big.NewInt(42), true}
	t.Run("Fork", func(t *testing.T) {
		c, err := childproc.Fork(t.Context(), script, nil, &childproc.Options{Serialization: "advanced"})
		if err != nil {
			t.Fatal(err)
		}
		check(t, c, nodeWant)
	})
	t.Run("Spawn", func(t *testing.T) {
		c, err := childproc.Spawn(t.Context(), "node", []string{script}, &childproc.Options{Serialization: "advanced",
			Stdio: []any{childproc.Ignore, childproc.Inherit, childproc.Inherit, childproc.IPC}})
		if err != nil {
			t.Fatal(err)
		}
		check(t, c, nodeWant)
	})
	t.Run("ForkEntry", func(t *testing.T) {
		c, err := childproc.ForkEntry(t.Context(), advancedEchoEntry, nil, &childproc.Options{Serialization: "advanced"})
		if err != nil {
			t.Fatal(err)
		}
		check(t, c, []any{"advanced", msg})
	})
}

// sameAdvanced compares the few decoded values the test above meets.
func sameAdvanced(a, b any) bool {
	switch a := a.(type) {
	case *big.Int:
		b, ok := b.(*big.Int)
		return ok && a.Cmp(b) == 0
	case map[string]any:
		b, ok := b.(map[string]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for k, v := range a {
			if !sameAdvanced(v, b[k]) {
				return false
			}
		}
		return true
	case *ipc.Map:
		b, ok := b.(*ipc.Map)
		return ok && len(a.Entries) == len(b.Entries)
	}
	return a == b
}
