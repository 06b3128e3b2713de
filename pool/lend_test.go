//go:build linux

package pool_test

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/childproc/childproc/pool"
)

// After a run of lone tasks, whose callers read their own answers and
// leave the pool's reader asleep, tasks that share a worker are answered
// at once: a caller that does not read for its task wakes the reader
// rather than leave the answer for the reader's next look, tens of
// milliseconds away.
func TestSharedTasksAfterLoneOnesAreReadAtOnce(t *testing.T) {
	p := newPool(t, adder, &pool.Options{Size: 1, Concurrency: 2})
	ctx := context.Background()
	var maps []time.Duration
	for range 24 {
		for i := range 1500 { // about 40 ms: the reader's wait grows to its longest
			if _, err := p.Do(ctx, addReq{i, 1}); err != nil {
				t.Fatal(err)
			}
		}
		start := time.Now()
		n := 0
		for sum, err := range p.Map(ctx, slices.Values([]addReq{{1, 1}, {2, 2}, {3, 3}, {4, 4}, {5, 5}, {6, 6}, {7, 7}, {8, 8}})) {
			n++
			if err != nil || sum != 2*n {
				t.Fatalf("Map's answer %d: %d, %v", n, sum, err)
			}
		}
		maps = append(maps, time.Since(start))
	}
	slices.Sort(maps)
	if p75 := maps[len(maps)*3/4]; p75 > 5*time.Millisecond {
		t.Fatalf("Map of 8 after 1500 lone tasks took %v (75th percentile; all %v)", p75, maps)
	}
}

// Callers that come and go at random, alone and together, with pauses
// shorter and longer than the reader's grace, all get their answers:
// the right to read the channel passes between them and the reader
// without being lost or held by someone who no longer reads.
func TestBatonPassesUnderRandomCallers(t *testing.T) {
	p := newPool(t, adder, &pool.Options{Size: 1, Concurrency: 2})
	deadline := time.Now().Add(2 * time.Second)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 1))
			for i := 0; time.Now().Before(deadline); i++ {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				sum, err := p.Do(ctx, addReq{i, g})
				cancel()
				if err != nil || sum != i+g {
					t.Errorf("caller %d, task %d: %d, %v", g, i, sum, err)
					return
				}
				switch r.IntN(4) {
				case 0:
					time.Sleep(time.Duration(r.IntN(3000)) * time.Microsecond)
				case 1:
					time.Sleep(time.Duration(r.IntN(50)) * time.Microsecond)
				}
			}
		})
	}
	wg.Wait()
}

// Many callers at once, sharing workers: every letter posted reaches its
// worker, whichever goroutine sends it, and every Do gets its own answer.
func TestNoLetterLeftBehind(t *testing.T) {
	p := newPool(t, adder, &pool.Options{Size: 2, Concurrency: 8})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for g := range 32 {
		wg.Go(func() {
			for i := range 500 {
				sum, err := p.Do(ctx, addReq{i, g * 1000})
				if err != nil || sum != i+g*1000 {
					t.Errorf("caller %d, task %d: %d, %v", g, i, sum, err)
					return
				}
			}
		})
	}
	wg.Wait()
}
