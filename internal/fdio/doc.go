// Package fdio makes the descriptors a child is given: pipes whose
// child's end stays blocking and out of Go's poller, socket pairs, copies
// of the parent's descriptors, all close-on-exec, so that a child gets
// exactly the descriptors it is handed.
package fdio
