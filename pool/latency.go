package pool

import (
	"math/bits"
	"time"
)

// Latency summarises a set of durations: how long tasks waited for a
// worker, or ran on one.
type Latency struct {
	// Count is the number of durations.
	Count int64
	// P50, P90 and P99 are upper bounds of those percentiles, within a
	// factor of 2 (the histogram's buckets double); Max is exact.
	P50, P90, P99, Max time.Duration
}

// histogram counts durations in buckets that double from 1 µs: bucket i
// holds durations below 2^i µs.
type histogram struct {
	buckets [40]int64
	max     time.Duration
}

func (h *histogram) add(d time.Duration) {
	us := uint64(max(d, 0) / time.Microsecond)
	h.buckets[min(bits.Len64(us), len(h.buckets)-1)]++
	h.max = max(h.max, d)
}

// latency returns the histogram's summary.
func (h *histogram) latency() Latency {
	var l Latency
	for _, n := range h.buckets {
		l.Count += n
	}
	if l.Count == 0 {
		return l
	}
	l.Max = h.max
	l.P50, l.P90, l.P99 = h.quantile(l.Count, 50), h.quantile(l.Count, 90), h.quantile(l.Count, 99)
	return l
}

// quantile returns the upper bound of the bucket that holds the pct-th
// percentile, capped at the maximum.
func (h *histogram) quantile(count int64, pct int64) time.Duration {
	want := (count*pct + 99) / 100
	seen := int64(0)
	for i, n := range h.buckets {
		seen += n
		if seen >= want {
			return min(time.Duration(1<<i)*time.Microsecond, h.max)
		}
	}
	return h.max
}
