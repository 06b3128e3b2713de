package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// The childproc binary the tests run as a real process, built once.
var (
	buildOnce sync.Once
	buildDir  string
	buildPath string
	buildErr  error
)

// TestMain removes the binary that buildChildproc built.
func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// buildChildproc builds the childproc command, with the race detector,
// the first time it is called, and returns the binary's path.
func buildChildproc(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "childproc-cmd-")
		if buildErr != nil {
			return
		}
		buildPath = filepath.Join(buildDir, "childproc")
		if out, err := exec.Command("go", "build", "-race", "-o", buildPath, ".").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildPath
}
