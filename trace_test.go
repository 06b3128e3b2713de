//go:build unix

package childproc_test

import (
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/childproc/childproc"
)

// records reads the JSON log records in b.
func records(t *testing.T, b *lockedBuffer) []map[string]any {
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		var r map[string]any
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, r)
	}
	return out
}

// Options.Logger traces every start and exit (execa's verbose mode), and
// a start that failed.
func TestLoggerTracesSpawnAndExit(t *testing.T) {
	var buf lockedBuffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	c, err := childproc.Spawn(t.Context(), "sh", []string{"-c", "kill -TERM $$"}, &childproc.Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, c)
	if _, err := childproc.ExecSync("exit 3", &childproc.Options{Logger: log}); err == nil {
		t.Fatal("exit 3 succeeded")
	}
	if _, err := childproc.Spawn(t.Context(), "no-such-program-here", nil, &childproc.Options{Logger: log}); err == nil {
		t.Fatal("a missing program started")
	}
	recs := records(t, &buf)
	if len(recs) != 5 {
		t.Fatalf("%d records, want 5: %v", len(recs), recs)
	}
	pid := float64(c.Pid())
	for i, want := range []map[string]any{
		{"msg": "childproc: spawn", "pid": pid, "file": "sh", "level": "INFO"},
		{"msg": "childproc: exit", "pid": pid, "signal": "SIGTERM", "code": float64(-1)},
		{"msg": "childproc: spawn", "file": "/bin/sh"},
		{"msg": "childproc: exit", "code": float64(3)},
		{"msg": "childproc: spawn failed", "file": "no-such-program-here", "level": "WARN"},
	} {
		for k, v := range want {
			if recs[i][k] != v {
				t.Errorf("record %d: %s = %v, want %v (%v)", i, k, recs[i][k], v, recs[i])
			}
		}
	}
	if args, _ := recs[0]["args"].([]any); len(args) != 2 || args[1] != "kill -TERM $$" {
		t.Errorf("the spawn's args: %v", recs[0]["args"])
	}
	if _, ok := recs[1]["ran"]; !ok {
		t.Errorf("the exit has no run time: %v", recs[1])
	}
}
