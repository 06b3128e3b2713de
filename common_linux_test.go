package childproc_test

import (
	"bytes"
	"errors"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Helpers of the root package's tests that read /proc.

// procStat returns the fields of /proc/pid/stat after the command name:
// [0] state, [1] ppid, [2] pgrp, [3] session, ...
func procStat(pid int) ([]string, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil, err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return nil, errors.New("malformed stat")
	}
	return strings.Fields(string(b[i+1:])), nil
}

// ourChildren lists the processes, live or zombie, whose parent is this
// process.
func ourChildren() map[int]bool {
	self := strconv.Itoa(os.Getpid())
	out := map[int]bool{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		f, err := procStat(pid)
		if err == nil && len(f) > 1 && f[1] == self {
			out[pid] = true
		}
	}
	return out
}

// ourZombies lists our children that have exited and not been reaped.
func ourZombies() []int {
	var out []int
	for pid := range ourChildren() {
		if f, err := procStat(pid); err == nil && f[0] == "Z" {
			out = append(out, pid)
		}
	}
	sort.Ints(out)
	return out
}

// openFds maps each fd of this process to what it refers to ("pipe:[123]",
// "/dev/null", ...). The targets tell a new pipe from an old one that
// reuses its number.
func openFds(t testing.TB) map[int]string {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatalf("no /proc/self/fd: %v", err)
	}
	out := map[int]string{}
	for _, e := range entries {
		fd, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		target, err := os.Readlink("/proc/self/fd/" + e.Name())
		if err != nil {
			continue // the fd ReadDir itself used
		}
		out[fd] = target
	}
	return out
}

// newFds returns the fds of now that were not open, with the same target,
// in before.
func newFds(before, now map[int]string) []string {
	var out []string
	for fd, target := range now {
		if before[fd] != target {
			out = append(out, strconv.Itoa(fd)+" -> "+target)
		}
	}
	sort.Strings(out)
	return out
}

// newChildren returns the children of now that were not in before.
func newChildren(before, now map[int]bool) []int {
	var out []int
	for pid := range now {
		if !before[pid] {
			out = append(out, pid)
		}
	}
	sort.Ints(out)
	return out
}

// alive reports whether pid is a live (non-zombie) process.
func alive(pid int) bool {
	f, err := procStat(pid)
	return err == nil && f[0] != "Z"
}

// eventually polls cond every 20ms until it holds or long has passed.
func eventually(cond func() bool) bool {
	deadline := time.Now().Add(long)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}
