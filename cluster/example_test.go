package cluster_test

import (
	"context"
	"fmt"
	"os"
	"slices"

	"github.com/childproc/childproc/cluster"
	"github.com/childproc/childproc/pool"
)

// square is the local pool's worker: a Go function run in forked copies
// of this binary.
var square = pool.Register("cluster-example-square", func(ctx context.Context, n int) (int, error) {
	return n * n, nil
})

// One process plays every part here: it runs the embedded server, a
// worker that serves a local pool, and the submitter. On real machines,
// the worker's part runs in "childproc worker" or a program of yours,
// with Connect or ConnectLocal instead of srv.Connect.
func Example() {
	dir, _ := os.MkdirTemp("", "cluster-example")
	defer os.RemoveAll(dir)
	srv, err := cluster.StartServer(&cluster.ServerOptions{Dir: dir})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	nc, err := srv.Connect()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer nc.Close()

	// The worker.
	local, err := pool.New(square, &pool.Options{Size: 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer local.Close()
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error)
	go func() { served <- cluster.Serve(ctx, nc, "squares", local, nil) }()
	defer func() { stop(); <-served }()

	// The submitter.
	p, err := cluster.New[int, int](nc, "squares", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Close()
	n, err := p.Do(context.Background(), 7)
	fmt.Println(n, err)
	for n, err := range p.MapBatch(context.Background(), "first-ten", slices.Values([]int{1, 2, 3, 4})) {
		fmt.Println(n, err)
	}
	// Output:
	// 49 <nil>
	// 1 <nil>
	// 4 <nil>
	// 9 <nil>
	// 16 <nil>
}

// A handler run in the worker's own process reads its task's id, to make
// its effects idempotent.
func ExampleServeFunc() {
	dir, _ := os.MkdirTemp("", "cluster-example")
	defer os.RemoveAll(dir)
	srv, err := cluster.StartServer(&cluster.ServerOptions{Dir: dir})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	nc, _ := srv.Connect()
	defer nc.Close()

	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error)
	go func() {
		served <- cluster.ServeFunc(ctx, nc, "ids", func(ctx context.Context, s string) (string, error) {
			id, _ := cluster.TaskID(ctx)
			return s + " is task " + id, nil
		}, nil)
	}()
	defer func() { stop(); <-served }()

	p, _ := cluster.New[string, string](nc, "ids", nil)
	defer p.Close()
	for s, err := range p.MapBatch(context.Background(), "letters", slices.Values([]string{"a", "b"})) {
		fmt.Println(s, err)
	}
	// Output:
	// a is task letters.0 <nil>
	// b is task letters.1 <nil>
}
