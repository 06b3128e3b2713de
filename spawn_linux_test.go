package childproc_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/childproc/childproc"
)

// The Spawn tests that look in /proc at a child's command line, its
// process group or this process's children.

// WaitDelay bounds the wait for a grandchild that holds stdout.
func TestWaitDelayCutsGrandchildStdio(t *testing.T) {
	t.Parallel()
	c, line, pid, perr := spawnStdoutHolder(t, t.Context(), "60", 300*time.Millisecond)
	err := waitFor(t, c)
	e := wantCode(t, err, childproc.CodeWaitDelay)
	if !errors.Is(err, childproc.ErrWaitDelay) || e.ExitCode != 0 {
		t.Fatalf("wait delay error: %#v", e)
	}
	if perr != nil {
		t.Fatalf("grandchild pid %q: %v", line, perr)
	}
	if !alive(pid) {
		t.Fatal("the grandchild should still run: WaitDelay only closes our ends")
	}
}

// Node: test-child-process-spawn-argv0.
func TestSpawnArgv0(t *testing.T) {
	t.Parallel()
	c, err := childproc.Spawn(t.Context(), "cat", []string{"/proc/self/cmdline"}, &childproc.Options{Argv0: "my-name", Stdio: []any{childproc.Ignore, childproc.Pipe, childproc.Ignore}})
	if err != nil {
		t.Fatal(err)
	}
	if out := readAll(t, c.Stdout); out != "my-name\x00/proc/self/cmdline\x00" {
		t.Fatalf("cmdline %q", out)
	}
	waitFor(t, c)
	if c.Spawnfile() != "cat" || !slices.Equal(c.Spawnargs(), []string{"my-name", "/proc/self/cmdline"}) {
		t.Fatalf("spawnfile %q spawnargs %q", c.Spawnfile(), c.Spawnargs())
	}
	out, _, err := spawnOut(t, "sh", []string{"-c", "echo $0"}, &childproc.Options{Argv0: "custom"})
	if err != nil || out != "custom\n" {
		t.Fatalf("$0 %q %v", out, err)
	}
	// Without Argv0, argv[0] is the name as given.
	out, _, err = spawnOut(t, "sh", []string{"-c", "echo $0"}, nil)
	if err != nil || out != "sh\n" {
		t.Fatalf("$0 %q %v", out, err)
	}
	// Node's execFile ignores argv0.
	c, err = childproc.ExecFile(t.Context(), "sh", []string{"-c", "echo $0"}, &childproc.Options{Argv0: "ignored"})
	if err != nil {
		t.Fatal(err)
	}
	if stdout, _, err := output(t, c); err != nil || string(stdout) != "sh\n" {
		t.Fatalf("execFile $0 %q %v", stdout, err)
	}
}

// Node: test-child-process-detached: the child leads a new session and
// process group.
func TestSpawnDetached(t *testing.T) {
	t.Parallel()
	quiet := []any{childproc.Ignore, childproc.Ignore, childproc.Ignore}
	c, err := childproc.Spawn(t.Context(), "sleep", []string{"60"}, &childproc.Options{Detached: true, Stdio: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { c.Kill(syscall.SIGKILL); waitFor(t, c) }()
	f, err := procStat(c.Pid())
	if err != nil {
		t.Fatal(err)
	}
	pid := strconv.Itoa(c.Pid())
	if f[2] != pid || f[3] != pid {
		t.Fatalf("detached child %s: pgrp %s session %s", pid, f[2], f[3])
	}
	// Without Detached the child stays in our session.
	c2, err := childproc.Spawn(t.Context(), "sleep", []string{"60"}, &childproc.Options{Stdio: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { c2.Kill(syscall.SIGKILL); waitFor(t, c2) }()
	f2, err := procStat(c2.Pid())
	if err != nil {
		t.Fatal(err)
	}
	self, _ := procStat(os.Getpid())
	if f2[3] != self[3] || f2[2] != self[2] {
		t.Fatalf("attached child: pgrp %s session %s, ours %s %s", f2[2], f2[3], self[2], self[3])
	}
}

// Node: test-child-process-spawn-error, test-child-process-spawnsync
// (ENOENT), test-child-process-exec-any-shells-windows (EACCES on POSIX).
// Not parallel: it checks that no child process appeared.
func TestPortSpawnErrors(t *testing.T) {
	// A spawn that fails in exec (EACCES of a directory) has readied the
	// guardian, a child of this process that lasts: it runs already.
	childproc.SpawnSync("true", nil, nil)
	kids := ourChildren()
	c, err := childproc.Spawn(t.Context(), "nope", []string{"a", "b"}, nil)
	if c != nil {
		t.Fatal("a Child for a missing program")
	}
	e := wantCode(t, err, "ENOENT")
	if e.Syscall != "spawn nope" || e.Path != "nope" || !slices.Equal(e.Spawnargs, []string{"a", "b"}) || e.Errno != syscall.ENOENT || e.ExitCode != -1 {
		t.Fatalf("ENOENT fields: %#v", e)
	}
	if !errors.Is(err, fs.ErrNotExist) || !errors.Is(err, syscall.ENOENT) {
		t.Fatalf("errors.Is(%v, fs.ErrNotExist) is false", err)
	}
	if err.Error() != "spawn nope ENOENT" {
		t.Fatalf("message %q", err)
	}
	if r := childproc.SpawnSync("nope", nil, nil); r.Pid != 0 || r.Status != -1 || r.Rusage != nil {
		t.Fatalf("spawnSync nope: %+v", r)
	} else if e := wantCode(t, r.Err, "ENOENT"); e.Syscall != "spawnSync nope" {
		t.Fatalf("spawnSync Syscall %q", e.Syscall)
	}

	dir := t.TempDir()
	plain := writeFile(t, dir, "plain", "#!/bin/sh\necho ran\n", 0o644)
	for _, path := range []string{plain, dir} {
		_, err := childproc.Spawn(t.Context(), path, nil, nil)
		if e := wantCode(t, err, "EACCES"); e.Path != path || e.Syscall != "spawn "+path || !errors.Is(err, fs.ErrPermission) {
			t.Fatalf("EACCES of %s: %#v", path, e)
		}
		_, err = childproc.ExecFile(t.Context(), path, nil, nil)
		wantCode(t, err, "EACCES")
		_, err = childproc.ExecFileSync(path, nil, nil)
		wantCode(t, err, "EACCES")
	}
	if left := newChildren(kids, ourChildren()); len(left) > 0 {
		t.Fatalf("failed spawns left processes %v", left)
	}
}

// Node: test-child-process-spawn-argv0, test-child-process-spawnsync (argv0).
func TestPortArgv0(t *testing.T) {
	t.Parallel()
	out, _, err := spawnOut(t, "cat", []string{"/proc/self/cmdline"}, &childproc.Options{Argv0: "port-argv0"})
	if err != nil || out != "port-argv0\x00/proc/self/cmdline\x00" {
		t.Fatalf("cmdline %q %v", out, err)
	}
	c, err := childproc.Spawn(t.Context(), "sh", []string{"-c", "echo $0"}, &childproc.Options{Argv0: "port-sh", Stdio: []any{childproc.Ignore, childproc.Pipe, childproc.Ignore}})
	if err != nil {
		t.Fatal(err)
	}
	if out := readAll(t, c.Stdout); out != "port-sh\n" {
		t.Fatalf("$0 %q", out)
	}
	waitFor(t, c)
	if c.Spawnfile() != "sh" || !slices.Equal(c.Spawnargs(), []string{"port-sh", "-c", "echo $0"}) {
		t.Fatalf("spawnfile %q spawnargs %q", c.Spawnfile(), c.Spawnargs())
	}
	if r := childproc.SpawnSync("sh", []string{"-c", "echo $0"}, &childproc.Options{Argv0: "port-sync"}); string(r.Stdout) != "port-sync\n" {
		t.Fatalf("spawnSync $0 %q %v", r.Stdout, r.Err)
	}
	if b, err := childproc.ExecFileSync("sh", []string{"-c", "echo $0"}, &childproc.Options{Argv0: "port-efs"}); err != nil || string(b) != "port-efs\n" {
		t.Fatalf("execFileSync $0 %q %v", b, err)
	}
	// Exec ignores Argv0: $0 is the shell.
	stdout, _, err := portExec(t, "echo $0", &childproc.Options{Argv0: "ignored"})
	if err != nil || string(stdout) != childproc.DefaultShell+"\n" {
		t.Fatalf("exec $0 %q %v", stdout, err)
	}
}

// Node: test-child-process-detached.
func TestPortDetached(t *testing.T) {
	t.Parallel()
	c, err := childproc.Spawn(t.Context(), "sleep", []string{"30"}, &childproc.Options{Detached: true, Stdio: portQuiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { c.Kill(syscall.SIGKILL); waitFor(t, c) }()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(c.Pid()) + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	// Field 6 is the session id; the command (field 2) may hold spaces,
	// so count from its closing parenthesis.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if pid := strconv.Itoa(c.Pid()); f[3] != pid || f[2] != pid {
		t.Fatalf("detached child %s: session %s, process group %s", pid, f[3], f[2])
	}
}
