//go:build !windows

package envlist

import "strings"

// Key returns the key of a "KEY=value" entry.
func Key(kv string) string {
	k, _, _ := strings.Cut(kv, "=")
	return k
}
