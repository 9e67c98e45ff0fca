// Package parallel runs the iterations of a loop on several goroutines:
// the two shapes Palisade's large scans use, with results left in input
// order by the caller's indexing.
package parallel

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
)

// For calls f on consecutive ranges covering [0, n), one per goroutine, on
// up to GOMAXPROCS goroutines and with at least minPer elements each: for
// loops whose iterations cost about the same. With one range f runs on the
// caller's goroutine.
func For(n, minPer int, f func(lo, hi int)) {
	workers := min(runtime.GOMAXPROCS(0), n/max(minPer, 1))
	if workers <= 1 {
		f(0, n)
		return
	}
	per := (n + workers - 1) / workers
	var wg sync.WaitGroup
	for lo := 0; lo < n; lo += per {
		wg.Go(func() { f(lo, min(lo+per, n)) })
	}
	wg.Wait()
}

// Each calls f(i) for every i in [0, n) on up to workers goroutines, which
// take batch indices at a time as they become free: for iterations of
// uneven cost (files, documents). It stops taking indices once ctx is done
// and returns ctx's error; indices not reached are not called.
func Each(ctx context.Context, n, workers, batch int, f func(i int)) error {
	batch = max(batch, 1)
	workers = min(workers, (n+batch-1)/batch)
	if workers <= 1 {
		for lo := 0; lo < n && ctx.Err() == nil; lo += batch {
			for i := lo; i < min(lo+batch, n); i++ {
				f(i)
			}
		}
		return ctx.Err()
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for ctx.Err() == nil {
				hi := int(next.Add(int64(batch)))
				lo := hi - batch
				if lo >= n {
					return
				}
				for i := lo; i < min(hi, n); i++ {
					f(i)
				}
			}
		})
	}
	wg.Wait()
	return ctx.Err()
}
