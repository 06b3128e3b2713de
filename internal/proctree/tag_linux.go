package proctree

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
)

// NewTag returns a new Tag, and env with the entry that hands it to the
// child.
func NewTag(env []string) (Tag, []string) {
	t := Tag{newMarker()}
	return t, append(env[:len(env):len(env)], EnvKey+"="+t.marker)
}

// newMarker returns a tree marker no other tree has: this process's pid,
// a random nonce (so that no marker matches the tree of an earlier process
// that had the same pid) and a sequence number ("<pid>.<nonce>.<n>").
func newMarker() string {
	return markerPrefix() + strconv.FormatUint(markerSeq.Add(1), 10)
}

// markerSeq numbers the tree markers of this process.
var markerSeq atomic.Uint64

// markerPrefix starts every tree marker of this process.
var markerPrefix = sync.OnceValue(func() string {
	var nonce [8]byte
	rand.Read(nonce[:])
	return strconv.Itoa(os.Getpid()) + "." + hex.EncodeToString(nonce[:]) + "."
})
