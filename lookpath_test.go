//go:build unix

package childproc_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/childproc/childproc"
)

// A program is found through PATH as execvp finds it in the child, after
// the chdir to Cwd (as Node does): a relative PATH entry is relative to
// Cwd, whether Cwd itself is relative or absolute, and ".." in it is
// resolved by the kernel from the directory Cwd really is, not by
// cleaning the path.
func TestLookPathRelativeToCwd(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	work := filepath.Join(root, "work")
	prog := func(dir, name string) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, dir, name, "#!/bin/sh\necho "+name+"\n", 0o755)
	}
	prog(work, "in-work")
	prog(filepath.Join(work, "bin"), "in-bin")
	prog(filepath.Join(root, "x", "bin"), "in-x-bin")
	prog(filepath.Join(root, "abs"), "in-abs")
	// links/w is work by another name: from it, ".." is root, not links.
	if err := os.Mkdir(filepath.Join(root, "links"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(work, filepath.Join(root, "links", "w")); err != nil {
		t.Fatal(err)
	}
	self, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	relWork, err := filepath.Rel(self, work)
	if err != nil {
		t.Fatal(err)
	}
	cwds := map[string]string{
		"absolute Cwd":     work,
		"relative Cwd":     relWork,
		"Cwd through link": filepath.Join(root, "links", "w"),
	}
	entries := []struct{ path, name string }{
		{"", "in-work"},
		{".", "in-work"},
		{"bin", "in-bin"},
		{"./bin", "in-bin"},
		{"../x/bin", "in-x-bin"},
		{filepath.Join(root, "abs"), "in-abs"},
		{"/nonexistent:bin", "in-bin"},
	}
	for cname, cwd := range cwds {
		for _, e := range entries {
			env := []string{"PATH=" + e.path}
			want := e.name + "\n"
			c, err := childproc.Spawn(t.Context(), e.name, nil, &childproc.Options{Cwd: cwd, Env: env, Stdio: []any{childproc.Ignore, childproc.Pipe, childproc.Ignore}})
			if err != nil {
				t.Errorf("%s, PATH %q: Spawn %s: %v", cname, e.path, e.name, err)
			} else if out := readAll(t, c.Stdout); waitFor(t, c) != nil || out != want {
				t.Errorf("%s, PATH %q: Spawn %s: %q %v", cname, e.path, e.name, out, c.Wait())
			}
			r := childproc.SpawnSync(e.name, nil, &childproc.Options{Cwd: cwd, Env: env})
			if r.Err != nil || string(r.Stdout) != want {
				t.Errorf("%s, PATH %q: SpawnSync %s: %q %v", cname, e.path, e.name, r.Stdout, r.Err)
			}
			// Under Limits the path passes through the shim, which runs
			// in Cwd too.
			c, err = childproc.ExecFile(context.Background(), e.name, nil, &childproc.Options{Cwd: cwd, Env: env, Limits: &childproc.Limits{OpenFiles: 256}})
			if err != nil {
				t.Errorf("%s, PATH %q: ExecFile %s under Limits: %v", cname, e.path, e.name, err)
				continue
			}
			if stdout, _, err := output(t, c); err != nil || string(stdout) != want {
				t.Errorf("%s, PATH %q: ExecFile %s under Limits: %q %v", cname, e.path, e.name, stdout, err)
			}
		}
	}
	// A relative PATH entry is not looked up from the parent's cwd:
	// bench/compare.sh is there, not in Cwd.
	_, err = childproc.Spawn(t.Context(), "compare.sh", nil, &childproc.Options{Cwd: work, Env: []string{"PATH=bench"}})
	wantCode(t, err, "ENOENT")
}
