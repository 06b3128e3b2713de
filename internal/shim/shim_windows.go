package shim

import "github.com/childproc/childproc/internal/reexec"

// Claim is nil: no process is started as a shim on Windows.
var Claim reexec.Claim
