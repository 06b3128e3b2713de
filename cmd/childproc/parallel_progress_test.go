//go:build linux

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestParallelProgressInTerminal runs --bar in a real terminal (tmux)
// and reads the screen: while the jobs run, one line with the running and
// failed jobs, a bar, done/total, the rate and the times; at the end the
// line is gone and the exit status is the failed jobs'.
func TestParallelProgressInTerminal(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed (apt-get install -y tmux)")
	}
	dir := t.TempDir()
	sock := "cp-progress-" + strconv.Itoa(os.Getpid())
	tmux := func(args ...string) string {
		out, err := exec.Command("tmux", append([]string{"-L", sock}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("tmux %q: %v: %s", args, err, out)
		}
		return string(out)
	}
	script := buildChildproc(t) + ` parallel -j2 --bar 'sleep 0.4; exit $(( {} % 5 == 0 ))' ::: $(seq 20) > ` +
		filepath.Join(dir, "out") + `; echo EXIT=$?; sleep 60`
	tmux("new-session", "-d", "-s", "p", "-x", "120", "-y", "10", script)
	defer exec.Command("tmux", "-L", sock, "kill-server").Run()

	live := regexp.MustCompile(`running [0-9]+, failed [0-9]+ +[0-9]+% \|[█ ]+\| \(([0-9]+)/20, [0-9.]+ jobs/s\) \[[0-9ms]+:[0-9ms]+\]`)
	var screen string
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		screen = tmux("capture-pane", "-p", "-t", "p")
		if m := live.FindStringSubmatch(screen); m != nil && m[1] != "0" {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !live.MatchString(screen) {
		t.Fatalf("no progress line while the jobs ran; the screen:\n%s", screen)
	}
	for time.Now().Before(deadline) && !strings.Contains(screen, "EXIT=") {
		time.Sleep(100 * time.Millisecond)
		screen = tmux("capture-pane", "-p", "-t", "p")
	}
	if !strings.Contains(screen, "EXIT=4") {
		t.Fatalf("want EXIT=4 (jobs 5, 10, 15, 20 fail); the screen:\n%s", screen)
	}
	if strings.Contains(screen, "jobs/s") || strings.Contains(screen, "█") {
		t.Errorf("the progress line was left on the screen:\n%s", screen)
	}
}

// TestParallelProgressNotTerminal: without a terminal --bar draws nothing.
func TestParallelProgressNotTerminal(t *testing.T) {
	r := parallel(t, "", "--bar", "--eta", "--progress", "-k", "echo", ":::", "a", "b")
	if r.stdout != "a\nb\n" || r.stderr != "" || r.code != 0 {
		t.Errorf("%+v", r)
	}
}
