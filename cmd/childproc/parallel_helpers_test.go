//go:build linux

package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

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
	return runBin(t, nil, stdin, buildChildproc(t), append([]string{"parallel"}, args...)...)
}
