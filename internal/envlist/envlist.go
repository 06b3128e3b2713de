// Package envlist reads and edits environments as lists of "KEY=value"
// entries, with the platform's rules for keys (Windows ignores their
// case).
package envlist

import "strings"

// Dedup keeps the last entry of each key, as os/exec does: a child's
// getenv would otherwise see the first one while a shell sees the last.
func Dedup(env []string) []string {
	seen := make(map[string]bool, len(env))
	out := make([]string, 0, len(env))
	for i := len(env) - 1; i >= 0; i-- {
		k := Key(env[i])
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, env[i])
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// Without returns env without the entries of keys.
func Without(env []string, keys ...string) []string {
	out := env[:0:0]
	for _, kv := range env {
		k := Key(kv)
		drop := false
		for _, key := range keys {
			drop = drop || k == key
		}
		if !drop {
			out = append(out, kv)
		}
	}
	return out
}

// Lookup returns the last value of key in env, as the child sees it.
func Lookup(env []string, key string) (string, bool) {
	for i := len(env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(env[i], key+"="); ok {
			return v, true
		}
	}
	return "", false
}
