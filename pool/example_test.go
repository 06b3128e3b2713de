package pool_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/childproc/childproc/pool"
)

// A Go worker: a function of this binary, run in forked copies of it.
// Register it in a package-level var, and call childproc.RunEntry first
// thing in main (TestMain here).
var square = pool.Register("example-square", func(ctx context.Context, n int) (int, error) {
	if n < 0 {
		return 0, errors.New("negative input")
	}
	return n * n, nil
})

func ExampleNew() {
	p, err := pool.New(square, &pool.Options{Size: 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Close()
	n, err := p.Do(context.Background(), 7)
	fmt.Println(n, err)
	// Output: 49 <nil>
}

func ExamplePool_Do_taskError() {
	p, err := pool.New(square, &pool.Options{Size: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Close()
	_, err = p.Do(context.Background(), -1)
	var te *pool.TaskError
	if errors.As(err, &te) {
		fmt.Printf("%s (%s)\n", te.Message, te.Name)
	}
	// Output: negative input (*errors.errorString)
}

func ExamplePool_Map() {
	p, err := pool.New(square, &pool.Options{Size: 2, Concurrency: 4})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Close()
	for n, err := range p.Map(context.Background(), slices.Values([]int{1, 2, 3, 4})) {
		fmt.Println(n, err)
	}
	// Output:
	// 1 <nil>
	// 4 <nil>
	// 9 <nil>
	// 16 <nil>
}

func ExamplePool_Shutdown() {
	p, err := pool.New(square, &pool.Options{Size: 1, TaskTimeout: time.Second})
	if err != nil {
		fmt.Println(err)
		return
	}
	go p.Do(context.Background(), 3)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	fmt.Println(p.Shutdown(ctx))
	_, err = p.Do(context.Background(), 4)
	fmt.Println(err)
	// Output:
	// <nil>
	// pool: closed
}

// A Node worker: testdata/add.js is
//
//	const { serve } = require('../node/worker.js');
//	serve(({ a, b }) => a + b);
func ExampleScript() {
	type sum struct {
		A int `json:"a"`
		B int `json:"b"`
	}
	p, err := pool.New(pool.Script[sum, int]("testdata/add.js"), &pool.Options{Size: 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Close()
	n, err := p.Do(context.Background(), sum{4, 6})
	fmt.Println(n, err)
	// Output: 10 <nil>
}
