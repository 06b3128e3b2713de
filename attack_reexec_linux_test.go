//go:build linux

package childproc_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/childproc/childproc"
	"github.com/childproc/childproc/ipc"
)

// attackChurnEntry starts 40 marked children (args[0]) one after the
// other, 20 ms apart, printing each spawn's error, then "ready".
var attackChurnEntry = childproc.RegisterEntry("attack-guardian-churn", func(ctx context.Context, ch *ipc.Channel, args []string) error {
	fmt.Println("started")
	for range 40 {
		if _, err := spawnMarked(args[0], "exec sleep 1000", childproc.Options{}); err != nil {
			fmt.Printf("spawn: %v\n", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	fmt.Println("ready")
	select {}
})

// attackTarget writes a shell script that records its uid and
// CHILDPROC_REEXEC into a file, and returns the script and a function
// that reads (and removes) that record: "" when the script did not run.
func attackTarget(t *testing.T, dir string) (string, func() string) {
	t.Helper()
	out := filepath.Join(dir, "out")
	if err := os.Mkdir(out, 0o777); err != nil {
		t.Fatal(err)
	}
	os.Chmod(out, 0o777)
	rec := filepath.Join(out, "rec")
	target := filepath.Join(dir, "target")
	script := "#!/bin/sh -p\necho \"$(id -u) ${CHILDPROC_REEXEC-unset}\" > " + rec + "\n"
	if err := os.WriteFile(target, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return target, func() string {
		b, _ := os.ReadFile(rec)
		os.Remove(rec)
		return strings.TrimSpace(string(b))
	}
}

// attackValues are forged CHILDPROC_REEXEC values: non-canonical fds,
// tokens of the wrong length, empty modes, chains. fd 3 and fd 4 are
// sockets that carry the right-looking token and shim orders for target.
func attackValues() []string {
	tok := forgedToken
	return []string{
		"shim:03:" + tok, "shim:-1:" + tok, "shim:+3:" + tok, "shim: 3:" + tok,
		"shim:99999999999999999999:" + tok, "shim:4294967299:" + tok,
		"shim:3:" + tok[:31], "shim:3:" + tok + "0", "shim:3:" + strings.ToUpper(tok),
		"shim:3:", "shim::" + tok, ":3:" + tok, "::", ",", ",,,", "", ":", "shim",
		",shim:3:" + tok, " shim:3:" + tok, "shim:3:" + tok + ",",
		"shim:3:" + tok + ",shim:4:" + tok, "shim:3:" + tok + ",shim:3:" + tok,
		"shim:3:" + tok + ",entry:4:" + tok, "shim:3:" + tok + ",guardian:4:" + tok,
		"entry:3:" + tok + ",shim:4:" + tok, "guardian:3:" + tok + ",shim:4:" + tok,
		"SHIM:3:" + tok, "shim:3:" + tok + "\n", "shim:3:" + tok + "\x00entry",
	}
}

// In a setuid-root copy of a binary that links childproc, run as uid
// 65534, no forged CHILDPROC_REEXEC, however malformed or chained, runs
// the shim's target or the entry: main runs as the setuid program without
// the variable (or, for a value whose first mode is the guardian, the
// process exits 2 without main).
func TestAttackReexecSetuidForged(t *testing.T) {
	s := makeSetuidLinked(t)
	asNobody, dir, suid := s.asNobody, s.dir, s.suid
	target, targetRan := attackTarget(t, dir)
	orders := forgedToken + "2\n\n\n" + target
	for _, v := range attackValues() {
		t.Run(strconv.Quote(v), func(t *testing.T) {
			if strings.ContainsRune(v, 0) {
				t.Skip("an environment string cannot hold NUL")
			}
			status, output := runLinked(t, asNobody, suid, nil, []string{"CHILDPROC_REEXEC=" + v, "NODE_CHANNEL_FD=5"},
				forgedSocket(t, orders), forgedSocket(t, forgedToken+"probe"), forgedSocket(t, ""))
			if rec := targetRan(); rec != "" {
				t.Fatalf("the forged shim ran its target (%s):\n%s", rec, output)
			}
			if strings.Contains(output, "entry ran") || strings.Contains(output, " sees ") || strings.Contains(output, "panic") {
				t.Fatalf("status %d:\n%s", status, output)
			}
			if strings.HasPrefix(v, "guardian:") {
				if status != 2 || strings.Contains(output, "main ran") {
					t.Fatalf("status %d, want 2 without main:\n%s", status, output)
				}
				return
			}
			if status != 0 || !strings.Contains(output, "main ran euid=0\n") {
				t.Fatalf("status %d, want main as the setuid program:\n%s", status, output)
			}
		})
	}
}

// In a plain binary, a malformed CHILDPROC_REEXEC (a non-canonical fd, a
// token of the wrong length, an empty mode, commas) proves nothing: the
// shim's target never runs, nothing panics, and main (when it runs) and
// its children never see the variable.
func TestAttackReexecPlainMalformed(t *testing.T) {
	dir := t.TempDir()
	bin := buildProgram(t, dir, "linked")
	target, targetRan := attackTarget(t, dir)
	orders := forgedToken + "2\n\n\n" + target
	for _, v := range attackValues() {
		if strings.ContainsRune(v, 0) {
			continue
		}
		if strings.HasPrefix(v, "shim:3:"+forgedToken) && !strings.HasPrefix(v, "shim:3:"+forgedToken+"0") {
			continue // well-formed: the plain binary acts on it, as the user
		}
		if strings.HasPrefix(v, "entry:3:"+forgedToken) || strings.HasPrefix(v, "guardian:3:"+forgedToken) {
			continue // well-formed
		}
		t.Run(strconv.Quote(v), func(t *testing.T) {
			status, output := runLinked(t, nil, bin, nil, []string{"CHILDPROC_REEXEC=" + v, "NODE_CHANNEL_FD=5"},
				forgedSocket(t, orders), forgedSocket(t, forgedToken+"probe"), forgedSocket(t, ""))
			if rec := targetRan(); rec != "" {
				t.Fatalf("a malformed value ran the shim's target (%s):\n%s", rec, output)
			}
			if strings.Contains(output, "entry ran") || strings.Contains(output, " sees ") || strings.Contains(output, "panic") {
				t.Fatalf("status %d:\n%s", status, output)
			}
			switch {
			case status == 0 && strings.Contains(output, "main ran"):
			case status == 2 && strings.HasPrefix(v, "guardian:"):
			case status == 127 && strings.HasPrefix(v, "shim:"):
			default:
				t.Fatalf("status %d:\n%s", status, output)
			}
		})
	}
}

// A well-formed shim handoff chained to a second, forged element: the
// shim hands the rest on to its target only as the value of
// CHILDPROC_REEXEC and nothing else; a target that links childproc acts
// on the rest only with its own proof.
func TestAttackReexecChainHandOn(t *testing.T) {
	dir := t.TempDir()
	bin := buildProgram(t, dir, "linked")
	target, targetRan := attackTarget(t, dir)
	// The shim runs the linked binary itself; its second element names fd
	// 4, a socket without the token: the inner shim must exit 127 and
	// never run main with the shim's arguments.
	orders := forgedToken + "2\n\n\n" + bin
	status, output := runLinked(t, nil, bin, nil, []string{"CHILDPROC_REEXEC=shim:3:" + forgedToken + ",shim:4:" + forgedToken},
		forgedSocket(t, orders), forgedSocket(t, strings.Repeat("f", 32)+"2\n\n\n"+target))
	if rec := targetRan(); rec != "" {
		t.Fatalf("the forged second shim ran its target (%s):\n%s", rec, output)
	}
	if status != 127 || strings.Contains(output, "main ran") {
		t.Fatalf("status %d, want 127 without main:\n%s", status, output)
	}
	// The same chain whose second element names no socket: main runs,
	// and does not see the variable.
	status, output = runLinked(t, nil, bin, nil, []string{"CHILDPROC_REEXEC=shim:3:" + forgedToken + ",shim:9:" + forgedToken},
		forgedSocket(t, orders))
	if status != 0 || !strings.Contains(output, "main ran") || strings.Contains(output, " sees ") {
		t.Fatalf("status %d:\n%s", status, output)
	}
}

// A parent whose guardian is SIGKILLed again and again while it starts
// children: every child that started still dies with the parent when
// the parent is SIGKILLed (a spawn may fail, with a typed error).
func TestAttackReexecGuardianKilledWhileSpawning(t *testing.T) {
	mark := fmt.Sprintf("attack-churn-%d", time.Now().UnixNano())
	c, err := childproc.ForkEntry(context.Background(), attackChurnEntry, []string{mark}, &childproc.Options{
		Stdio: []any{childproc.Ignore, childproc.Pipe, childproc.Inherit, childproc.IPC},
	})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan string)
	go func() {
		b, _ := io.ReadAll(c.Stdout)
		done <- string(b)
	}()
	killed := 0
	deadline := time.Now().Add(30 * time.Second)
	for len(markedProcesses(mark)) < 40 && time.Now().Before(deadline) {
		if g := guardianOf(c.Pid()); killed < 5 && g != 0 && syscall.Kill(g, syscall.SIGKILL) == nil {
			killed++
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	started := len(markedProcesses(mark))
	c.Kill(syscall.SIGKILL)
	c.Wait()
	left := waitGone(mark, 10*time.Second)
	out := "(stdout still held open)"
	select {
	case out = <-done:
	case <-time.After(5 * time.Second):
		t.Log("the parent's stdout is still open 5 s after its SIGKILL")
	}
	if len(left) > 0 {
		killAll(left)
		t.Fatalf("%d of %d children outlived their SIGKILLed parent (guardian killed %d times):\n%s", len(left), started, killed, out)
	}
	if killed == 0 {
		t.Fatalf("no guardian was seen to kill:\n%s", out)
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "spawn: ") && !strings.Contains(line, "guardian") {
			t.Errorf("a spawn failed for another reason: %s", line)
		}
	}
	t.Logf("guardian killed %d times, %d children started:\n%s", killed, started, out)
}
