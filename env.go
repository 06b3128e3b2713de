package childproc

import (
	"os"

	"github.com/childproc/childproc/ipc"
)

// childEnv is the environment the child starts from: Options.Env, or
// this process's environment without the channel a parent gave it (Node
// removes those at startup; a child without its own IPC entry must not
// see them either), then Options.AddEnv; without repeated keys.
func childEnv(set *settings) []string {
	env := set.Env
	if env == nil {
		env = withoutKeys(os.Environ(), ipc.EnvChannelFD, ipc.EnvSerialization)
		if set.AddEnv == nil {
			return env
		}
	}
	return dedupEnv(append(env[:len(env):len(env)], set.AddEnv...))
}

// dedupEnv keeps the last entry of each key, as os/exec does: a child's
// getenv would otherwise see the first one while a shell sees the last.
func dedupEnv(env []string) []string {
	seen := make(map[string]bool, len(env))
	out := make([]string, 0, len(env))
	for i := len(env) - 1; i >= 0; i-- {
		k := envKey(env[i])
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

// withoutKeys returns env without the entries of keys.
func withoutKeys(env []string, keys ...string) []string {
	out := env[:0:0]
	for _, kv := range env {
		k := envKey(kv)
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
