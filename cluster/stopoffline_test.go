//go:build linux

package cluster_test

import (
	"context"
	"testing"
	"time"

	"github.com/childproc/childproc/cluster"
)

// TestCloseWhileServerAway: a Pool closed while its server is away,
// with tasks published meanwhile (held by the connection until it
// reconnects), leaves none of them to run once the server is back,
// whether the server comes back before Close gives up waiting for it or
// after.
func TestCloseWhileServerAway(t *testing.T) {
	for _, away := range []time.Duration{2 * time.Second, 12 * time.Second} {
		dir := t.TempDir()
		port := freePort(t)
		srv, err := cluster.StartServer(&cluster.ServerOptions{Dir: dir, Port: port})
		if err != nil {
			t.Fatal(err)
		}
		wc := connect(t, srv)
		serveFunc(t, wc, "away", &cluster.Options{Slots: 2})
		pc := connect(t, srv)
		p := newPool(t, pc, "away", nil)
		runs := t.TempDir()
		down := make(chan struct{})
		input := func(yield func(job) bool) {
			for i := range 12 {
				if i == 2 {
					<-down
				}
				if !yield(job{N: i, Runs: runs, Sleep: time.Minute}) {
					return
				}
			}
		}
		mapped := make(chan struct{})
		go func() {
			defer close(mapped)
			for range p.Map(context.Background(), input) {
			}
		}()
		waitFor(t, 10*time.Second, "2 tasks running", func() bool { return len(runsOf(t, runs)) == 2 })
		srv.Close()
		close(down)
		time.Sleep(300 * time.Millisecond) // the other 10 are published, held by the connection
		closed := make(chan struct{})
		go func() { p.Close(); close(closed) }()
		time.Sleep(away)
		srv2, err := cluster.StartServer(&cluster.ServerOptions{Dir: dir, Port: port})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { srv2.Close() })
		select {
		case <-closed:
		case <-time.After(30 * time.Second):
			t.Fatalf("away %v: Close did not return", away)
		}
		<-mapped
		time.Sleep(3 * time.Second) // for the workers to reconnect and take what is queued
		if r := runsOf(t, runs); len(r) != 2 {
			t.Errorf("away %v: runs %v, want only the 2 tasks running before the server went away", away, r)
		}
	}
}
