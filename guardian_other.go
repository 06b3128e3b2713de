//go:build !linux

package childproc

import (
	"syscall"
	"time"

	"github.com/childproc/childproc/internal/reexec"
)

// Only Linux has a guardian: elsewhere children survive their parent.

type guardLink struct{}

type treeStop struct {
	sig    syscall.Signal
	delay  time.Duration
	marker string
}

func isGuarded(set *settings) bool { return false }

// claimGuardian is nil: no process is started as a guardian here.
var claimGuardian reexec.Claim

func readyGuardian() error { return nil }

func guardChild(pid int, tree treeStop) (*guardLink, error) { return nil, nil }

func (l *guardLink) release() {}
