package main

import (
	"os"
	"sync"
)

// stopLeftovers stops, with the termseq, what is left of the trees of
// jobs that ended while a process they started still held their output
// (a background process): the jobs counted as ended when their own
// processes exited, as in GNU parallel, but nothing of them may outlive
// childproc.
func (r *jobRunner) stopLeftovers() {
	var wg sync.WaitGroup
	for _, c := range r.leftovers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.x.stopTree(c, func(os.Signal) {})
		}()
	}
	wg.Wait()
	r.leftovers = nil
}
