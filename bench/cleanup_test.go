package bench

import (
	"os/exec"
	"testing"

	"github.com/childproc/childproc"
)

// BenchmarkSpawnCleanup measures what the cleanup options cost against
// os/exec: the defaults (a pidfd registered with the guardian), KillTree
// (own process group, tree marker, guardian registration), and Limits (an
// extra exec of the running binary that sets the limits). "survive" is
// childproc configured as os/exec's Run is: stdio ignored and not
// registered with the guardian (SurviveParent).
func BenchmarkSpawnCleanup(b *testing.B) {
	ignore := []any{childproc.Ignore, childproc.Ignore, childproc.Ignore}
	run := func(b *testing.B, opts *childproc.Options) {
		for b.Loop() {
			if err := spawnTrue(opts); err != nil {
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
