package ipc_test

import (
	"fmt"
	"math/big"
	"time"

	"github.com/childproc/childproc/ipc"
)

// On a channel in Node's "advanced" serialization (fork(module,
// {serialization: 'advanced'}) on the Node side, Options.Serialization
// "advanced" on childproc's), Send and Decode carry JavaScript's own
// types. Here the codec is used directly to show what a message holds.
func ExampleAdvanced() {
	type job struct {
		ID    *big.Int  `json:"id"`    // a BigInt
		Due   time.Time `json:"due"`   // a Date
		Input []byte    `json:"input"` // a Buffer
		Tags  *ipc.Set  `json:"tags"`  // a Set
	}
	frame, err := ipc.Advanced.AppendFrame(nil, job{
		ID:    new(big.Int).Lsh(big.NewInt(1), 64),
		Due:   time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
		Input: []byte("raw bytes, no base64"),
		Tags:  &ipc.Set{Values: []any{"a", "b"}},
	})
	if err != nil {
		panic(err)
	}
	// What Node's process.on('message') would see, decoded in Go.
	var back map[string]any
	if err := ipc.Advanced.Unmarshal(frame[4:], &back); err != nil {
		panic(err)
	}
	fmt.Println(back["id"], back["due"], string(back["input"].([]byte)), back["tags"].(*ipc.Set).Values)

	// A value that refers to itself is sent, and comes back, as a cycle.
	self := map[string]any{"name": "loop"}
	self["me"] = self
	frame, _ = ipc.Advanced.AppendFrame(nil, self)
	var cyc map[string]any
	ipc.Advanced.Unmarshal(frame[4:], &cyc)
	fmt.Println(cyc["me"].(map[string]any)["me"].(map[string]any)["name"])
	// Output:
	// 18446744073709551616 2025-01-02 03:04:05 +0000 UTC raw bytes, no base64 [a b]
	// loop
}
