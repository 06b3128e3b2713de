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
// of the running binary that sets the limits). "survive" is childproc
// configured as os/exec's Run is: stdio ignored and no parent-death
// guarantee (SurviveParent), so its child is forked from the calling
// thread.
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
	b.Run("survive", func(b *testing.B) { run(b, &childproc.Options{Stdio: ignore, SurviveParent: true}) })
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
