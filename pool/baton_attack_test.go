//go:build linux

package pool_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/childproc/childproc/pool"
)

// A Map reads its answers in order: while it waits for a slow first
// task, the answer of its quick second one, on the other worker, is
// nobody's to read but the pool's. That worker's reader reads it at
// once even when lone callers had just kept its baton busy (its looks
// then come tens of milliseconds apart), so that the worker is free
// for the next caller.
func TestMapsUnreadAnswerFreesItsWorker(t *testing.T) {
	p := newPool(t, tester, &pool.Options{Size: 2, Child: quiet()})
	ctx := context.Background()
	var waits []time.Duration
	for range 11 {
		// While a sleeper holds the first worker, lone tasks on the
		// second make its reader look ever less often.
		slept := make(chan error, 1)
		go func() {
			_, err := p.Do(ctx, job{Sleep: 150 * time.Millisecond})
			slept <- err
		}()
		eventually(t, 5*time.Second, "the sleeper running", func() bool { return p.Stats().Busy == 1 })
		for done := false; !done; {
			if _, err := p.Do(ctx, job{Value: "quick"}); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-slept:
				if err != nil {
					t.Fatal(err)
				}
				done = true
			default:
			}
		}
		done := p.Stats().Done
		start := time.Now()
		mapped := make(chan error, 1)
		go func() {
			var err error
			for _, e := range p.Map(ctx, slices.Values([]job{{Sleep: 300 * time.Millisecond}, {Value: "second"}})) {
				if e != nil && err == nil {
					err = e
				}
			}
			mapped <- err
		}()
		// Both sent: the second one's answer unread, or read already.
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Microsecond) {
			if s := p.Stats(); s.Busy == 2 || s.Done > done {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the Map's tasks not sent within 5s")
			}
		}
		if _, err := p.Do(ctx, job{Value: "next"}); err != nil {
			t.Fatal(err)
		}
		waits = append(waits, time.Since(start))
		if err := <-mapped; err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(waits)
	if p66 := waits[len(waits)*2/3]; p66 > 4*time.Millisecond {
		t.Fatalf("a quick Do while a Map's answer waited unread was done %v after the Map began (two thirds of them less; all %v)", p66, waits)
	}
}
