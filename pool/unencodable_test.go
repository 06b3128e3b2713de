//go:build linux

package pool_test

import (
	"context"
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/childproc/childproc/ipc"
	"github.com/childproc/childproc/pool"
)

// unencodable answers each request with a value JSON cannot hold: a NaN,
// a channel, a cycle.
var unencodable = pool.Register("unencodable", func(ctx context.Context, kind string) (any, error) {
	switch kind {
	case "nan":
		return math.NaN(), nil
	case "chan":
		return make(chan int), nil
	case "cycle":
		m := map[string]any{}
		m["m"] = m
		return m, nil
	}
	return kind, nil
})

// Requests that JSON cannot hold fail with ErrNotSerializable before
// anything is sent, from Do and from Map; responses that it cannot hold
// fail their task with a *TaskError, and the worker serves on.
func TestUnencodableValues(t *testing.T) {
	p := newPool(t, pool.Worker[any, any](unencodable), &pool.Options{Size: 1, Concurrency: 2, Child: quiet()})
	ctx := context.Background()
	cycle := []any{nil}
	cycle[0] = cycle
	bad := []any{math.NaN(), math.Inf(-1), make(chan int), func() {}, cycle, map[string]any{"a": []any{math.NaN()}}}
	for _, req := range bad {
		if _, err := p.Do(ctx, req); !errors.Is(err, ipc.ErrNotSerializable) {
			t.Errorf("Do(%T): %v, want ErrNotSerializable", req, err)
		}
	}
	n := 0
	for _, err := range p.Map(ctx, slices.Values(bad)) {
		if !errors.Is(err, ipc.ErrNotSerializable) {
			t.Errorf("Map, request %d: %v, want ErrNotSerializable", n, err)
		}
		n++
	}
	if s := p.Stats(); n != len(bad) || s.Done != 0 || s.Failed != int64(2*len(bad)) || s.Wait.Count != 0 {
		t.Fatalf("%d of Map's results; something was sent, or the failures not counted: %+v", n, s)
	}
	for _, kind := range []string{"nan", "chan", "cycle"} {
		var te *pool.TaskError
		if got, err := p.Do(ctx, kind); !errors.As(err, &te) {
			t.Errorf("response %s: %v, %v; want a *TaskError", kind, got, err)
		}
	}
	if got, err := p.Do(ctx, "fine"); err != nil || got != "fine" {
		t.Fatalf("after them: %v, %v", got, err)
	}
}
