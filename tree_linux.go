package childproc

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// A KillTree child leads its own process group, and carries a marker in
// its environment (treeEnv=<parent pid>.<n>) that its descendants inherit.
// Its tree is then: the group, the descendants found by walking /proc's
// parent links from the child, and every process whose environment holds
// the marker, which finds even descendants that changed group and were
// orphaned. Descendants that both left the group and cleared their
// environment after being orphaned cannot be found.

// treeMembers returns the pids of the tree rooted at pid (pid excluded):
// descendants by parent link, members of group pgid, and the processes
// whose environment holds the tree marker (and their descendants). A
// marker ending in "." matches every marker that starts with it.
func treeMembers(pid, pgid int, marker string) []int {
	procs := readProcs()
	children := map[int][]int{}
	for _, p := range procs {
		children[p.ppid] = append(children[p.ppid], p.pid)
	}
	found := map[int]bool{}
	var queue []int
	if pid > 1 {
		queue = append(queue, pid)
	}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		for _, k := range children[n] {
			if !found[k] {
				found[k] = true
				queue = append(queue, k)
			}
		}
	}
	needle := []byte(treeEnv + "=" + marker)
	if !strings.HasSuffix(marker, ".") {
		needle = append(needle, 0)
	}
	self := os.Getpid()
	for _, p := range procs {
		if found[p.pid] || p.pid == pid || p.pid == self {
			continue
		}
		if p.pgid == pgid && pgid > 1 {
			found[p.pid] = true
			continue
		}
		if marker != "" && hasMarker(p.pid, needle) {
			found[p.pid] = true
			// Its own descendants belong to the tree too.
			for q := []int{p.pid}; len(q) > 0; q = q[1:] {
				for _, k := range children[q[0]] {
					if !found[k] {
						found[k] = true
						q = append(q, k)
					}
				}
			}
		}
	}
	delete(found, pid)
	out := make([]int, 0, len(found))
	for p := range found {
		if p > 1 && p != self {
			out = append(out, p)
		}
	}
	return out
}

type procInfo struct{ pid, ppid, pgid int }

// readProcs lists the processes in /proc with their parent and group.
func readProcs() []procInfo {
	d, err := os.Open("/proc")
	if err != nil {
		return nil
	}
	names, _ := d.Readdirnames(-1)
	d.Close()
	procs := make([]procInfo, 0, len(names))
	for _, name := range names {
		pid, err := strconv.Atoi(name)
		if err != nil {
			continue
		}
		if p, ok := readProc(pid); ok {
			procs = append(procs, p)
		}
	}
	return procs
}

// readProc reads the parent and group of a live (not zombie) process.
func readProc(pid int) (procInfo, bool) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procInfo{}, false
	}
	// pid (comm) state ppid pgrp ...: comm may hold spaces and parens.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return procInfo{}, false
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 3 || f[0] == "Z" {
		return procInfo{}, false
	}
	ppid, _ := strconv.Atoi(f[1])
	pgid, _ := strconv.Atoi(f[2])
	return procInfo{pid, ppid, pgid}, true
}

// hasMarker reports whether the environment of pid holds needle, the
// start of an entry ("KEY=value\x00", or a prefix "KEY=val").
func hasMarker(pid int, needle []byte) bool {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
	if err != nil {
		return false
	}
	if bytes.HasPrefix(data, needle) {
		return true
	}
	return bytes.Contains(data, append([]byte{0}, needle...))
}

// killTree sends sig to group pgid and to every member of the tree,
// twice over to catch processes forked meanwhile. It reports whether any
// process got the signal. Members are signalled through a pidfd opened
// before their membership is checked again, so a pid that was reused by
// an unrelated process between the scan and the signal is never hit.
func killTree(pid, pgid int, marker string, sig syscall.Signal) bool {
	any := false
	for round := 0; round < 2; round++ {
		if pgid > 1 && syscall.Kill(-pgid, sig) == nil {
			any = true
		}
		members := treeMembers(pid, pgid, marker)
		set := make(map[int]bool, len(members)+1)
		set[pid] = true
		for _, p := range members {
			set[p] = true
		}
		for _, p := range members {
			if signalMember(p, pgid, marker, set, sig) {
				any = true
			}
		}
		if len(members) == 0 {
			break
		}
	}
	return any
}

// signalMember signals p through a pidfd if, once the pidfd pins it, p
// still belongs to the tree: in group pgid, carrying the marker, or the
// child of a member.
func signalMember(p, pgid int, marker string, members map[int]bool, sig syscall.Signal) bool {
	fd, err := unix.PidfdOpen(p, 0)
	if err != nil {
		// No pidfd (an old kernel): the bare pid is all there is.
		return err != unix.ESRCH && syscall.Kill(p, sig) == nil
	}
	defer unix.Close(fd)
	info, ok := readProc(p)
	needle := []byte(treeEnv + "=" + marker)
	if !strings.HasSuffix(marker, ".") {
		needle = append(needle, 0)
	}
	if !ok || !(pgid > 1 && info.pgid == pgid || members[info.ppid] || marker != "" && hasMarker(p, needle)) {
		return false
	}
	return unix.PidfdSendSignal(fd, sig, nil, 0) == nil
}
