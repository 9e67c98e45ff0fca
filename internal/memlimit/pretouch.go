package memlimit

import (
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
)

// ManifestHeapPerInputByte is about what a manifest scan's heap grows to
// per byte of input, for Pretouch: it peaks at ~29 (11.5 MiB of YAML, 340
// MB; posture benchmark, session 14), kept a little under so that no scan
// pays for pages it never uses.
//
// A live scan is not pretouched: its size is known only once listed, and
// then the collection Pretouch runs over the inventory (38 MB for 10,000
// objects) and the pages it backs ahead cost what the faults they save do,
// with 50 MB more peak RSS (BenchmarkPostureLive, session 14). Sizing it
// from every kind's first page (remainingItemCount) and pretouching before
// the rest was slower still: the wait for the first pages cost more than
// the faults saved (1.44× against 1.36× the LIST, session 15).
const ManifestHeapPerInputByte = 24

// minPretouch is the least Pretouch bothers with: below it the faults it
// saves cost less than the collection it runs.
const minPretouch = 16 << 20

// Pretouch makes about n bytes of memory resident for the heap before a
// phase that will allocate them, and hands them back to the heap free.
//
// Why: a scan allocates hundreds of megabytes of objects it keeps, and
// the kernel backs each fresh page on its first write, one fault per 4 KiB.
// On virtual machines (CI runners, cloud nodes) a fault costs 10–15 µs: a
// 10,000-Deployment scan spent a fifth of its time faulting. One
// madvise(MADV_POPULATE_WRITE) backs the same pages in bulk, more than ten
// times faster (JVMs offer the same as -XX:+AlwaysPreTouch). The pages are
// those the scan's heap would have touched: n is capped so that the heap
// with them stays under the soft memory limit, so peak RSS does not grow.
//
// It returns the bytes made resident: 0 where the kernel cannot populate
// (Linux before 5.14, other systems) or n is too small to be worth it.
func Pretouch(n int64) int64 {
	n = min(n, headroom())
	if n < minPretouch {
		return 0
	}
	if !populate(make([]byte, n)) {
		return 0
	}
	// Free the block now: the allocations that follow reuse its pages only
	// once a collection has swept it (cheap here: it holds no pointers).
	runtime.GC()
	return n
}

// unlimitedPretouch caps Pretouch when no memory limit is set (--memory-limit
// none): an estimate from a large input must not back gigabytes at once.
const unlimitedPretouch = 256 << 20

// headroom is how much the Go runtime's memory may grow before it reaches
// the soft memory limit (a quarter of it is left for what the heap does
// not hold: stacks, metadata, fragmentation); unlimitedPretouch without a
// limit.
func headroom() int64 {
	limit := debug.SetMemoryLimit(-1)
	if limit == math.MaxInt64 {
		return unlimitedPretouch
	}
	s := []metrics.Sample{{Name: "/memory/classes/total:bytes"}, {Name: "/memory/classes/heap/released:bytes"}}
	metrics.Read(s)
	used := int64(readUint(s[0]) - readUint(s[1]))
	return max(0, limit*3/4-used)
}

func readUint(s metrics.Sample) uint64 {
	if s.Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s.Value.Uint64()
}
