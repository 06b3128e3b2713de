// Package bench holds childproc's side-by-side benchmarks: each measures
// childproc and its baseline (raw os/exec, a raw socketpair) in the same
// run, so that ratios, not absolute times, are what is compared. The
// script compare.sh adds the Node peers and prints one table of ratios.
package bench
