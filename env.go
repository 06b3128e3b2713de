package childproc

import (
	"os"

	"github.com/childproc/childproc/internal/envlist"
	"github.com/childproc/childproc/ipc"
)

// childEnv is the environment the child starts from: [Options.Env], or
// this process's environment without the channel a parent gave it (Node
// removes those at startup; a child without its own IPC entry must not
// see them either), then [Options.AddEnv]; without repeated keys.
func childEnv(set *settings) []string {
	env := set.Env
	if env == nil {
		env = envlist.Without(os.Environ(), ipc.EnvChannelFD, ipc.EnvSerialization)
		if set.AddEnv == nil {
			return env
		}
	}
	return envlist.Dedup(append(env[:len(env):len(env)], set.AddEnv...))
}
