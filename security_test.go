//go:build linux

package childproc_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/childproc/childproc"
)

// forgedToken is a well-formed handoff token: what a forger writes into a
// socket he controls.
const forgedToken = "0123456789abcdef0123456789abcdef"

// publicDir returns a new directory that any user may enter.
func publicDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "childproc-sec")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// forgedSocket returns the end of a socket pair to give a child, whose
// other end already holds data and is shut down for writing: a handoff
// as a forger would make it.
func forgedSocket(t *testing.T, data string) *os.File {
	t.Helper()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	syscall.CloseOnExec(fds[0])
	syscall.CloseOnExec(fds[1])
	mine, theirs := os.NewFile(uintptr(fds[0]), "forger"), os.NewFile(uintptr(fds[1]), "forged")
	t.Cleanup(func() { mine.Close(); theirs.Close() })
	if _, err := mine.WriteString(data); err != nil {
		t.Fatal(err)
	}
	syscall.Shutdown(fds[0], syscall.SHUT_WR)
	return theirs
}

// runLinked runs bin (testdata/linked) through launcher (nil: directly)
// with env added to a bare environment and extra descriptors from fd 3,
// and returns its status and what it printed on stdout and stderr.
func runLinked(t *testing.T, launcher []string, bin string, args, env []string, extra ...any) (int, string) {
	t.Helper()
	argv := append(append(append([]string(nil), launcher...), bin), args...)
	r := childproc.SpawnSync(argv[0], argv[1:], &childproc.Options{
		Env:     append([]string{"PATH=" + os.Getenv("PATH")}, env...),
		Stdio:   append([]any{childproc.Ignore, childproc.Pipe, childproc.Pipe}, extra...),
		Timeout: time.Minute,
	})
	if r.Err != nil && r.Status < 0 {
		t.Fatalf("%v: %v", argv, r.Err)
	}
	return r.Status, string(r.Stdout) + string(r.Stderr)
}

// A setuid-root binary that links childproc, run by an unprivileged user
// with forged CHILDPROC_REEXEC values for the shim and an entry (the old
// environment-only forms, and well-formed handoffs on sockets the user
// controls), never runs the forged shim's target nor the entry: it runs
// main, as a program that does not link childproc would, and the
// variable is gone from its environment and its children's. The same
// forged handoffs in a copy without the setuid bit do act, as the user
// himself: the forgeries are well-formed, and only secure execution stops
// them. The variables of earlier protocols (CHILDPROC_SHIM,
// CHILDPROC_ENTRY, CHILDPROC_GUARDIAN) act in neither copy. ForkEntry
// and Limits refuse to run in the setuid process.
func TestSetuidBinaryIgnoresForgedModes(t *testing.T) {
	s := makeSetuidLinked(t)
	asNobody, dir, plain, suid := s.asNobody, s.dir, s.plain, s.suid
	out := filepath.Join(dir, "out")
	if err := os.Mkdir(out, 0o777); err != nil {
		t.Fatal(err)
	}
	os.Chmod(out, 0o777)
	uidFile := filepath.Join(out, "uid")
	target := filepath.Join(dir, "target")
	// -p: the shell keeps the effective uid it is given, as any program
	// that is not a shell does.
	if err := os.WriteFile(target, []byte("#!/bin/sh -p\nid -u > "+uidFile+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	// The forged target's record: "" when it did not run.
	targetRan := func() string {
		b, _ := os.ReadFile(uidFile)
		os.Remove(uidFile)
		return strings.TrimSpace(string(b))
	}
	checkMainOnly := func(t *testing.T, output string) {
		t.Helper()
		if !strings.Contains(output, "main ran euid=0\n") {
			t.Errorf("main did not run as the setuid program:\n%s", output)
		}
		if strings.Contains(output, "entry ran") || strings.Contains(output, " sees ") {
			t.Errorf("the forgery reached the program or its children:\n%s", output)
		}
	}
	pipeR, pipeW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pipeR.Close()
	defer pipeW.Close()

	for _, kv := range []string{"CHILDPROC_REEXEC=shim:1\n3\n\n" + target, "CHILDPROC_SHIM=1\n3\n\n" + target} {
		t.Run("environment shim "+kv[:strings.IndexByte(kv, '=')], func(t *testing.T) {
			_, output := runLinked(t, asNobody, suid, nil, []string{kv}, pipeW)
			if uid := targetRan(); uid != "" {
				t.Fatalf("the forged shim ran its target as uid %s:\n%s", uid, output)
			}
			checkMainOnly(t, output)
		})
	}
	for _, kv := range []string{"CHILDPROC_REEXEC=entry:probe", "CHILDPROC_ENTRY=probe"} {
		t.Run("environment entry "+kv[:strings.IndexByte(kv, '=')], func(t *testing.T) {
			_, output := runLinked(t, asNobody, suid, nil, []string{kv, "NODE_CHANNEL_FD=3"}, forgedSocket(t, ""))
			checkMainOnly(t, output)
		})
	}
	shimOrders := forgedToken + "2\n\n\n" + target
	shimEnv := []string{"CHILDPROC_REEXEC=shim:3:" + forgedToken}
	t.Run("handoff shim", func(t *testing.T) {
		_, output := runLinked(t, asNobody, suid, nil, shimEnv, forgedSocket(t, shimOrders))
		if uid := targetRan(); uid != "" {
			t.Fatalf("the forged shim ran its target as uid %s:\n%s", uid, output)
		}
		checkMainOnly(t, output)
		_, output = runLinked(t, asNobody, plain, nil, shimEnv, forgedSocket(t, shimOrders))
		if uid := targetRan(); uid != "65534" {
			t.Fatalf("without the setuid bit the forged shim should run its target as the user; uid %q:\n%s", uid, output)
		}
	})
	t.Run("handoff shim CHILDPROC_SHIM", func(t *testing.T) {
		for _, bin := range []string{suid, plain} {
			_, output := runLinked(t, asNobody, bin, nil, []string{"CHILDPROC_SHIM=3:" + forgedToken}, forgedSocket(t, shimOrders))
			if uid := targetRan(); uid != "" {
				t.Fatalf("%s: CHILDPROC_SHIM ran its target as uid %s:\n%s", bin, uid, output)
			}
			if !strings.Contains(output, "main ran euid=") {
				t.Errorf("%s: main did not run:\n%s", bin, output)
			}
		}
	})
	entryEnv := []string{"CHILDPROC_REEXEC=entry:3:" + forgedToken, "NODE_CHANNEL_FD=4"}
	t.Run("handoff entry", func(t *testing.T) {
		_, output := runLinked(t, asNobody, suid, nil, entryEnv, forgedSocket(t, forgedToken+"probe"), forgedSocket(t, ""))
		checkMainOnly(t, output)
		_, output = runLinked(t, asNobody, plain, nil, entryEnv, forgedSocket(t, forgedToken+"probe"), forgedSocket(t, ""))
		if !strings.Contains(output, "entry ran euid=65534\n") {
			t.Fatalf("without the setuid bit the forged entry should run as the user:\n%s", output)
		}
	})
	t.Run("handoff entry CHILDPROC_ENTRY", func(t *testing.T) {
		for _, bin := range []string{suid, plain} {
			_, output := runLinked(t, asNobody, bin, nil, []string{"CHILDPROC_ENTRY=3:" + forgedToken, "NODE_CHANNEL_FD=4"}, forgedSocket(t, forgedToken+"probe"), forgedSocket(t, ""))
			if strings.Contains(output, "entry ran") || !strings.Contains(output, "main ran euid=") {
				t.Errorf("%s: CHILDPROC_ENTRY acted, or main did not run:\n%s", bin, output)
			}
		}
	})
	t.Run("handoff guardian", func(t *testing.T) {
		// A root process carrying a tree marker: a guardian that obeyed
		// the forged socket would stop that "tree" when the socket ends.
		const marker = "1.0123456789abcdef.1"
		victim := exec.Command("sleep", "60")
		victim.Env = []string{"CHILDPROC_TREE=" + marker}
		if err := victim.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { victim.Process.Kill(); victim.Wait() }()
		status, output := runLinked(t, asNobody, suid, nil, []string{"CHILDPROC_REEXEC=guardian:3:" + forgedToken},
			forgedSocket(t, forgedToken+"*1 9 0 "+marker+"\n"))
		if status != 2 || strings.Contains(output, "main ran") {
			t.Fatalf("a forged guardian in a setuid binary: status %d, want 2 without main:\n%s", status, output)
		}
		// The variable of an earlier protocol is an ordinary one: main runs.
		status, output = runLinked(t, asNobody, suid, nil, []string{"CHILDPROC_GUARDIAN=3:" + forgedToken},
			forgedSocket(t, forgedToken+"*1 9 0 "+marker+"\n"))
		if status != 0 || !strings.Contains(output, "main ran") {
			t.Fatalf("CHILDPROC_GUARDIAN in a setuid binary: status %d, want main:\n%s", status, output)
		}
		time.Sleep(200 * time.Millisecond) // a guardian would act within about 20 ms
		if !alive(victim.Process.Pid) {
			t.Fatal("the forged guardian killed a root process")
		}
	})
	t.Run("ForkEntry and Limits refused", func(t *testing.T) {
		_, output := runLinked(t, asNobody, suid, []string{"fork"}, nil)
		checkMainOnly(t, output)
		for _, want := range []string{
			"ForkEntry: ForkEntry 'probe' in a setuid, setgid or file-capability process",
			"Limits: The property 'options.limits' cannot be used in a setuid, setgid or file-capability process",
		} {
			if !strings.Contains(output, want) {
				t.Errorf("output lacks %q:\n%s", want, output)
			}
		}
	})
}

// The mode variable left in an environment, without the socket it names
// (or naming a socket without the token, for an entry), or naming no
// mode, is ignored: main runs, and neither the process nor its children
// (os/exec's or childproc's) see it. The variables of earlier protocols
// are ignored too.
func TestLeakedModeVariablesIgnored(t *testing.T) {
	bin := buildProgram(t, t.TempDir(), "linked")
	for _, tc := range []struct {
		name  string
		env   []string
		extra []any
	}{
		{"shim, no socket", []string{"CHILDPROC_REEXEC=shim:3:" + forgedToken}, nil},
		{"entry, no socket", []string{"CHILDPROC_REEXEC=entry:4:" + forgedToken}, nil},
		{"shim, not a handoff", []string{"CHILDPROC_REEXEC=shim:1\n3\n\n/bin/true"}, nil},
		{"entry, not a handoff", []string{"CHILDPROC_REEXEC=entry:probe"}, nil},
		{"no such mode", []string{"CHILDPROC_REEXEC=probe:3:" + forgedToken}, nil},
		{"no mode", []string{"CHILDPROC_REEXEC=3:" + forgedToken}, nil},
		{"entry socket without its token", []string{"CHILDPROC_REEXEC=entry:3:" + forgedToken, "NODE_CHANNEL_FD=4"}, []any{forgedSocket(t, "probe"), forgedSocket(t, "")}},
		{"earlier protocols, no socket", []string{"CHILDPROC_SHIM=3:" + forgedToken, "CHILDPROC_ENTRY=4:" + forgedToken}, nil},
		{"earlier protocols, not a handoff", []string{"CHILDPROC_SHIM=1\n3\n\n/bin/true", "CHILDPROC_ENTRY=probe"}, nil},
		{"earlier entry with its token", []string{"CHILDPROC_ENTRY=3:" + forgedToken, "NODE_CHANNEL_FD=4"}, []any{forgedSocket(t, forgedToken+"probe"), forgedSocket(t, "")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, output := runLinked(t, nil, bin, nil, tc.env, tc.extra...)
			if status != 0 || !strings.Contains(output, "main ran") || strings.Contains(output, "entry ran") || strings.Contains(output, " sees ") {
				t.Fatalf("status %d:\n%s", status, output)
			}
		})
	}
}

// A CHILDPROC_REEXEC that names the shim and a socket without its token
// is no proof, and such a process was started with another program's
// arguments: it exits with status 127 and says why, rather than running
// main. The variable of an earlier protocol, CHILDPROC_SHIM, is an
// ordinary one: main runs.
func TestShimHandoffWithoutTokenExits(t *testing.T) {
	bin := buildProgram(t, t.TempDir(), "linked")
	status, output := runLinked(t, nil, bin, nil, []string{"CHILDPROC_REEXEC=shim:3:" + forgedToken}, forgedSocket(t, strings.Repeat("f", 32)+"2\n\n\n/bin/true"))
	if status != 127 || strings.Contains(output, "main ran") || !strings.Contains(output, "childproc: CHILDPROC_REEXEC=shim: the socket it names does not carry its token") {
		t.Fatalf("status %d:\n%s", status, output)
	}
	status, output = runLinked(t, nil, bin, nil, []string{"CHILDPROC_SHIM=3:" + forgedToken}, forgedSocket(t, strings.Repeat("f", 32)+"2\n\n\n/bin/true"))
	if status != 0 || !strings.Contains(output, "main ran") {
		t.Fatalf("CHILDPROC_SHIM: status %d:\n%s", status, output)
	}
}

// Limits with UID and GID from a binary only root may read (mode 0700):
// the shim runs as the parent, takes on the child's ids, then sets the
// limits, so the child runs as 65534 with its limits; a failed exec
// names the target and its own errno.
func TestLimitsWithUIDFromPrivateBinary(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to give the child another uid")
	}
	dir := t.TempDir()
	bin := buildProgram(t, dir, "linked")
	if err := os.Chmod(bin, 0o700); err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(dir, "secret")
	if err := os.WriteFile(secret, []byte("#!/bin/sh\necho secret\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	status, output := runLinked(t, nil, bin, []string{"limits-uid", "/nonexistent/prog", secret}, nil)
	for _, want := range []string{
		`as nobody: "65534 65534 64\n" <nil>`,
		"/nonexistent/prog: spawnSync /nonexistent/prog ENOENT",
		secret + ": spawnSync " + secret + " EACCES",
	} {
		if !strings.Contains(output, want) {
			t.Errorf("output lacks %q (status %d):\n%s", want, status, output)
		}
	}
}

// A child started with Limits and UID still dies with its parent: the
// kernel clears the parent-death signal when the shim changes its ids,
// and the shim sets it again.
func TestLimitsWithUIDChildDiesWithParent(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to give the child another uid")
	}
	bin := buildProgram(t, t.TempDir(), "linked")
	parent, err := childproc.Spawn(t.Context(), bin, []string{"limits-uid-sleep"}, &childproc.Options{
		Env:   []string{"PATH=" + os.Getenv("PATH")},
		Stdio: []any{childproc.Ignore, childproc.Pipe, childproc.Inherit},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer parent.Wait()
	defer parent.Kill(syscall.SIGKILL)
	var pid int
	buf := make([]byte, 4096)
	var got string
	for !strings.Contains(got, "sleep pid ") || !strings.HasSuffix(got, "\n") {
		n, err := parent.Stdout.Read(buf)
		if err != nil {
			t.Fatalf("parent printed %q: %v", got, err)
		}
		got += string(buf[:n])
	}
	if _, err := fmt.Sscan(got[strings.Index(got, "sleep pid ")+len("sleep pid "):], &pid); err != nil {
		t.Fatalf("parent printed %q", got)
	}
	parent.Kill(syscall.SIGKILL)
	if left := waitPidGone(pid, 10*time.Second); left {
		syscall.Kill(pid, syscall.SIGKILL)
		t.Fatalf("the child %d (uid 65534) outlived its SIGKILLed parent", pid)
	}
}

// waitPidGone waits until pid has ended (gone, or a zombie), and reports
// whether it is still running after within.
func waitPidGone(pid int, within time.Duration) bool {
	for end := time.Now().Add(within); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if f, err := procStat(pid); err != nil || f[0] == "Z" {
			return false
		}
	}
	return true
}

// setuidLinked is the linked test program twice in a directory others
// may enter: as built, and as a setuid-root copy, with the command that
// runs either as nobody.
type setuidLinked struct {
	asNobody         []string
	dir, plain, suid string
}

// makeSetuidLinked builds the programs of a setuidLinked; it skips the
// test unless it runs as root with setpriv at hand.
func makeSetuidLinked(t *testing.T) setuidLinked {
	t.Helper()
	if os.Getuid() != 0 {
		t.Skip("needs root to make a setuid-root binary and run it as another user")
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("needs setpriv to run the binary as another user")
	}
	s := setuidLinked{asNobody: []string{setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"}, dir: publicDir(t)}
	s.plain = buildProgram(t, s.dir, "linked")
	s.suid = filepath.Join(s.dir, "suid-linked")
	if out, err := exec.Command("cp", s.plain, s.suid).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
	if err := os.Chmod(s.suid, 0o755|os.ModeSetuid); err != nil {
		t.Fatal(err)
	}
	return s
}
