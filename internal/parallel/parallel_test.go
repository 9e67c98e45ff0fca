package parallel

import (
	"context"
	"sync/atomic"
	"testing"
)

func TestForCoversEveryIndexOnce(t *testing.T) {
	for _, tc := range []struct{ n, minPer int }{{0, 10}, {1, 10}, {9, 10}, {10_000, 10}, {10_001, 4096}, {7, 0}} {
		seen := make([]int32, tc.n)
		For(tc.n, tc.minPer, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				atomic.AddInt32(&seen[i], 1)
			}
		})
		for i, c := range seen {
			if c != 1 {
				t.Fatalf("n=%d minPer=%d: index %d called %d times", tc.n, tc.minPer, i, c)
			}
		}
	}
}

func TestEachCoversEveryIndexOnce(t *testing.T) {
	for _, tc := range []struct{ n, workers, batch int }{{0, 2, 1}, {1, 2, 64}, {1000, 1, 64}, {1000, 3, 1}, {1000, 4, 64}, {5, 8, 0}} {
		seen := make([]int32, tc.n)
		if err := Each(t.Context(), tc.n, tc.workers, tc.batch, func(i int) { atomic.AddInt32(&seen[i], 1) }); err != nil {
			t.Fatal(err)
		}
		for i, c := range seen {
			if c != 1 {
				t.Fatalf("%+v: index %d called %d times", tc, i, c)
			}
		}
	}
}

func TestEachStopsWhenCtxEnds(t *testing.T) {
	for _, workers := range []int{1, 3} {
		ctx, cancel := context.WithCancel(t.Context())
		var calls atomic.Int64
		err := Each(ctx, 100_000, workers, 8, func(i int) {
			if calls.Add(1) == 100 {
				cancel()
			}
		})
		if err == nil {
			t.Fatalf("workers=%d: no error after cancel", workers)
		}
		if c := calls.Load(); c >= 100_000 {
			t.Fatalf("workers=%d: %d calls, want it to stop early", workers, c)
		}
	}
}
