//go:build !linux

package guardian

import "github.com/childproc/childproc/internal/reexec"

// Only Linux has a guardian: elsewhere children survive their parent.

// Supported is false: there is no guardian here.
const Supported = false

// A Link is a registration with the guardian; there are none here.
type Link struct{}

// Claim is nil: no process is started as a guardian here.
var Claim reexec.Claim

// Ready does nothing.
func Ready() error { return nil }

// Guard registers nothing.
func Guard(pid int, tree Tree) (*Link, error) { return nil, nil }

// Release does nothing.
func (l *Link) Release() {}
