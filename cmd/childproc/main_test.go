package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// childprocBin is the childproc binary that the tests run as a real
// process, built once by TestMain.
var childprocBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "childproc-cmd-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	childprocBin = filepath.Join(dir, "childproc")
	build := exec.Command("go", "build", "-o", childprocBin, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building childproc:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is how a run of the childproc binary ended.
type result struct {
	stdout, stderr string
	code           int
}

// runBin runs a program with stdin and extra environment entries, and
// fails the test if it does not end within a minute.
func runBin(t *testing.T, env []string, stdin string, name string, args ...string) result {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatal(err)
		}
	case <-time.After(time.Minute):
		cmd.Process.Kill()
		<-done
		t.Fatalf("%s %q did not end within a minute", name, args)
	}
	return result{out.String(), errb.String(), cmd.ProcessState.ExitCode()}
}

// parallel runs childproc parallel with args.
func parallel(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	return runBin(t, nil, stdin, childprocBin, append([]string{"parallel"}, args...)...)
}
