//go:build linux

package pool_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/childproc/childproc"
	"github.com/childproc/childproc/ipc"
	"github.com/childproc/childproc/pool"
)

// A request whose task message is longer than the channel's
// MaxMessageSize (Child.Channel's, or ipc's default, with which a Go
// worker reads) fails with ErrTooLarge before anything is sent: its
// worker is not killed by a frame it would refuse, and serves on.
func TestRequestOverMaxMessageSize(t *testing.T) {
	for _, limit := range []int{0, 4096} {
		opts := &pool.Options{Size: 1, Child: quiet()}
		if limit > 0 {
			opts.Child.Channel = &ipc.Options{MaxMessageSize: limit}
		} else {
			limit = ipc.DefaultMaxMessageSize
		}
		p := newPool(t, pool.Worker[any, any](unencodable), opts)
		ctx := context.Background()
		if _, err := p.Do(ctx, strings.Repeat("x", limit)); !errors.Is(err, ipc.ErrTooLarge) {
			t.Errorf("MaxMessageSize %d: Do of as many bytes: %v, want ErrTooLarge", limit, err)
		}
		for _, err := range p.Map(ctx, func(yield func(any) bool) { yield(strings.Repeat("y", limit)) }) {
			if !errors.Is(err, ipc.ErrTooLarge) {
				t.Errorf("MaxMessageSize %d: Map of as many bytes: %v, want ErrTooLarge", limit, err)
			}
		}
		fits := "small"
		if limit < 1<<20 {
			fits = strings.Repeat("z", limit-64)
		}
		if got, err := p.Do(ctx, fits); err != nil || got != fits {
			t.Fatalf("MaxMessageSize %d: a request that fits: %.20v, %v", limit, got, err)
		}
		if s := p.Stats(); s.Restarts != 0 || s.Failed != 2 || s.Done != 1 || s.Wait.Count != 1 {
			t.Errorf("MaxMessageSize %d: %+v, want one task done, the two refused counted as failed, and no restart", limit, s)
		}
	}
}

// The pool protocol is JSON: a pool whose Child asks for another
// serialization is refused before any worker starts.
func TestPoolRefusesOtherSerializations(t *testing.T) {
	for _, ser := range []string{"advanced", "nonsense"} {
		_, err := pool.New(adder, &pool.Options{Size: 1, Child: &childproc.Options{Serialization: ser}})
		if !errors.Is(err, pool.ErrBadOptions) {
			t.Errorf("Child.Serialization %q: %v, want ErrBadOptions", ser, err)
		}
	}
	p := newPool(t, adder, &pool.Options{Size: 1, Child: &childproc.Options{Serialization: "json"}})
	if got, err := p.Do(context.Background(), addReq{2, 3}); err != nil || got != 5 {
		t.Fatalf("Child.Serialization json: %d, %v", got, err)
	}
	if kids := children(t); len(kids) > 1 {
		t.Errorf("processes left by the refused pools: %v", kids)
	}
}
