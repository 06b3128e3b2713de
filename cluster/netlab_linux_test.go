package cluster_test

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os/exec"
	"strings"
	"testing"
)

// A netLab is machines simulated by network namespaces that the test
// makes: each namespace reaches the host through a veth pair plugged
// into a bridge, so that its processes talk to a server on the host over
// a real network, and a link taken down is a real fault. The addresses
// are in 198.18.0.0/15, the range set aside for such tests, and exist
// only inside the namespaces and the bridge the test made.
type netLab struct {
	t      *testing.T
	host   string   // the host's address on the bridge
	spaces []string // the namespaces, one per machine
	links  []string // the host side of each machine's veth pair
}

// newNetLab makes n namespaces; it returns nil (after saying why in the
// test's log) when they cannot be made, and the test falls back to
// loopback.
func newNetLab(t *testing.T, n int) *netLab {
	t.Helper()
	if _, err := exec.LookPath("ip"); err != nil {
		t.Logf("no network namespaces (iproute2's ip is missing): falling back to loopback")
		return nil
	}
	b := make([]byte, 2)
	rand.Read(b)
	id := hex.EncodeToString(b)
	subnet := fmt.Sprintf("198.18.%d", b[0])
	lab := &netLab{t: t, host: subnet + ".1"}
	bridge := "cpb" + id
	t.Cleanup(func() {
		for _, ns := range lab.spaces {
			exec.Command("ip", "netns", "del", ns).Run()
		}
		exec.Command("ip", "link", "del", bridge).Run()
	})
	steps := [][]string{
		{"link", "add", bridge, "type", "bridge"},
		{"addr", "add", lab.host + "/24", "dev", bridge},
		{"link", "set", bridge, "up"},
	}
	for i := range n {
		ns, host, peer := fmt.Sprintf("cp%s-%d", id, i), fmt.Sprintf("cp%sh%d", id, i), fmt.Sprintf("cp%sn%d", id, i)
		lab.spaces = append(lab.spaces, ns)
		lab.links = append(lab.links, host)
		steps = append(steps,
			[]string{"netns", "add", ns},
			[]string{"link", "add", host, "type", "veth", "peer", "name", peer},
			[]string{"link", "set", peer, "netns", ns},
			[]string{"link", "set", host, "master", bridge},
			[]string{"link", "set", host, "up"},
			[]string{"-n", ns, "addr", "add", fmt.Sprintf("%s.%d/24", subnet, 10+i), "dev", peer},
			[]string{"-n", ns, "link", "set", peer, "up"},
			[]string{"-n", ns, "link", "set", "lo", "up"},
		)
	}
	for _, s := range steps {
		if out, err := exec.Command("ip", s...).CombinedOutput(); err != nil {
			t.Logf("no network namespaces (ip %s: %v: %s): falling back to loopback", strings.Join(s, " "), err, out)
			return nil
		}
	}
	t.Logf("network namespaces %v on bridge %s (%s)", lab.spaces, bridge, lab.host)
	return lab
}

// setLink sets machine i's link "down" (cut off) or "up" again.
func (l *netLab) setLink(i int, state string) {
	l.t.Helper()
	if out, err := exec.Command("ip", "link", "set", l.links[i], state).CombinedOutput(); err != nil {
		l.t.Fatalf("ip link set %s %s: %v: %s", l.links[i], state, err, out)
	}
}
