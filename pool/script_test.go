//go:build linux

package pool_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/childproc/childproc"
	"github.com/childproc/childproc/ipc"
	"github.com/childproc/childproc/pool"
)

// The pool with Node and Python workers, through the helpers in
// pool/node and pool/python: every fault the Go workers are tested for.

type sumReq struct {
	A     int    `json:"a"`
	B     int    `json:"b"`
	Crash bool   `json:"crash,omitempty"`
	Hang  any    `json:"hang,omitempty"`
	Leak  int    `json:"leak,omitempty"`
	Bad   string `json:"bad,omitempty"`
	Size  int    `json:"size,omitempty"`
}

var languages = []struct{ name, ext string }{{"node", ".js"}, {"python", ".py"}}

func script(lang, name string, args ...string) pool.Worker[sumReq, any] {
	return pool.Script[sumReq, any]("testdata/"+name+lang, args...)
}

func TestScriptWorkers(t *testing.T) {
	leakCheck(t)
	for _, l := range languages {
		t.Run(l.name, func(t *testing.T) {
			ctx := context.Background()
			t.Run("add", func(t *testing.T) {
				p := newPool(t, pool.Script[sumReq, int]("testdata/add"+l.ext), &pool.Options{Size: 2, Concurrency: 8})
				for resp, err := range p.Map(ctx, func(yield func(sumReq) bool) {
					for i := range 200 {
						if !yield(sumReq{A: i, B: 1}) {
							return
						}
					}
				}) {
					if err != nil {
						t.Fatal(err)
					}
					_ = resp
				}
				if s := p.Stats(); s.Done != 200 || s.Failed != 0 {
					t.Fatalf("Stats %+v", s)
				}
			})
			t.Run("crash", func(t *testing.T) {
				p := newPool(t, script(l.ext, "crash"), &pool.Options{Size: 1, Child: quiet()})
				_, err := p.Do(ctx, sumReq{Crash: true})
				var we *pool.WorkerError
				var ce *childproc.Error
				if !errors.As(err, &we) || !errors.As(err, &ce) || ce.ExitCode != 7 || !strings.Contains(string(we.Stderr), "crash") {
					t.Fatalf("crash: %v (stderr %q)", err, stderrOf(we))
				}
				if got, err := p.Do(ctx, sumReq{A: 2, B: 3}); err != nil || got != 5.0 {
					t.Fatalf("after the crash: %v, %v", got, err)
				}
			})
			t.Run("timeout", func(t *testing.T) {
				o := quiet()
				o.ForceKillAfter = 300 * time.Millisecond
				p := newPool(t, script(l.ext, "hang", "--ignore-term"), &pool.Options{Size: 1, TaskTimeout: 300 * time.Millisecond, Child: o})
				if _, err := p.Do(ctx, sumReq{Hang: true}); !errors.Is(err, pool.ErrTimeout) {
					t.Fatalf("hung task: %v", err)
				}
				if got, err := p.Do(ctx, sumReq{A: 1, B: 1}); err != nil || got != 2.0 {
					t.Fatalf("after the timeout: %v, %v", got, err)
				}
			})
			t.Run("cancel", func(t *testing.T) {
				p := newPool(t, script(l.ext, "hang"), &pool.Options{Size: 1, CancelGrace: 300 * time.Millisecond, Child: quiet()})
				c, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
				defer cancel()
				if _, err := p.Do(c, sumReq{Hang: true}); !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("cancelled Do: %v", err)
				}
				eventually(t, 5*time.Second, "the worker that ignored the cancel replaced", func() bool { return p.Stats().Restarts == 1 })
			})
			t.Run("leak", func(t *testing.T) {
				p := newPool(t, script(l.ext, "leak"), &pool.Options{Size: 1, MaxMemory: 150 << 20, Child: quiet()})
				for range 10 {
					if _, err := p.Do(ctx, sumReq{Leak: 32 << 20}); err != nil {
						t.Fatalf("leaking task: %v", err)
					}
				}
				if s := p.Stats(); s.Recycled < 1 || s.Failed != 0 {
					t.Fatalf("a worker leaking 320 MiB was not recycled at 150 MiB: %+v", s)
				}
			})
			for _, bad := range []string{"malformed", "unknown-id", "no-id", "huge"} {
				t.Run("bad="+bad, func(t *testing.T) {
					o := quiet()
					o.Channel = &ipc.Options{MaxMessageSize: 1 << 20}
					p := newPool(t, script(l.ext, "bad"), &pool.Options{Size: 1, Child: o})
					_, err := p.Do(ctx, sumReq{Bad: bad, Size: 2 << 20})
					if !errors.Is(err, pool.ErrProtocol) {
						t.Fatalf("%s: %v, want ErrProtocol", bad, err)
					}
					if got, err := p.Do(ctx, sumReq{A: 1, B: 2}); err != nil || got != 3.0 {
						t.Fatalf("after %s: %v, %v", bad, got, err)
					}
				})
			}
			t.Run("throw", func(t *testing.T) {
				p := newPool(t, pool.Script[map[string]any, any]("testdata/proto"+l.ext), &pool.Options{Size: 1, Child: quiet()})
				_, err := p.Do(ctx, map[string]any{"op": "throw", "message": "no such user"})
				var te *pool.TaskError
				if !errors.As(err, &te) || te.Message != "no such user" || te.Name == "" || te.Stack == "" {
					t.Fatalf("thrown error: %v (%+v)", err, te)
				}
				if s := p.Stats(); s.Restarts != 0 {
					t.Fatalf("a throw cost a worker: %+v", s)
				}
			})
			t.Run("cancel reaches the handler", func(t *testing.T) {
				p := newPool(t, pool.Script[map[string]any, any]("testdata/proto"+l.ext), &pool.Options{Size: 1, Child: quiet()})
				c, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
				defer cancel()
				if _, err := p.Do(c, map[string]any{"op": "wait-cancel"}); !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("cancelled Do: %v", err)
				}
				eventually(t, 5*time.Second, "the handler answered its cancel", func() bool { return p.Stats().Busy == 0 })
				if s := p.Stats(); s.Restarts != 0 {
					t.Fatalf("a worker that answered its cancel was replaced: %+v", s)
				}
			})
			for _, bad := range []string{"exit_at_start", "throw_at_start"} {
				t.Run(bad, func(t *testing.T) {
					_, err := pool.New(script(l.ext, bad), &pool.Options{Size: 1, Child: quiet()})
					var we *pool.WorkerError
					if !errors.As(err, &we) || !strings.Contains(string(we.Stderr), bad) {
						t.Fatalf("New: %v (stderr %q)", err, stderrOf(we))
					}
				})
			}
		})
	}
}

func stderrOf(we *pool.WorkerError) []byte {
	if we == nil {
		return nil
	}
	return we.Stderr
}
