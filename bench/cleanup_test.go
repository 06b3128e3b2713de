package bench

import (
	"context"
	"os/exec"
	"testing"

	"github.com/childproc/childproc"
)

// BenchmarkSpawnCleanup measures what the cleanup options cost against
// os/exec: the defaults (parent-death signal, spawner thread), KillTree
// (own process group, guardian registration), and Limits (an extra exec
// of the running binary that sets the limits). Detached children get no
// parent-death signal, so they are forked from the calling thread like
// os/exec's: "detached" is childproc without that guarantee's cost.
func BenchmarkSpawnCleanup(b *testing.B) {
	ctx := context.Background()
	ignore := []any{childproc.Ignore, childproc.Ignore, childproc.Ignore}
	run := func(b *testing.B, opts *childproc.Options) {
		for b.Loop() {
			c, err := childproc.Spawn(ctx, "/bin/true", nil, opts)
			if err != nil {
				b.Fatal(err)
			}
			if err := c.Wait(); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("defaults", func(b *testing.B) { run(b, &childproc.Options{Stdio: ignore}) })
	b.Run("detached", func(b *testing.B) { run(b, &childproc.Options{Stdio: ignore, Detached: true}) })
	b.Run("killtree", func(b *testing.B) { run(b, &childproc.Options{Stdio: ignore, KillTree: true}) })
	b.Run("limits", func(b *testing.B) {
		run(b, &childproc.Options{Stdio: ignore, Limits: &childproc.Limits{OpenFiles: 1024}})
	})
	b.Run("osexec", func(b *testing.B) {
		for b.Loop() {
			if err := exec.Command("/bin/true").Run(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
