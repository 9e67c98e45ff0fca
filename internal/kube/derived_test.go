package kube

import (
	"sync"
	"testing"
)

// TestDerivedOncePerKey: each key's build runs once, even from several
// goroutines, and different keys keep different values.
func TestDerivedOncePerKey(t *testing.T) {
	type k1 struct{}
	type k2 struct{ n int }
	inv := NewInventory(nil)
	builds := map[any]int{}
	var mu sync.Mutex
	get := func(key any, v int) int {
		return inv.Derived(key, func() any {
			mu.Lock()
			builds[key]++
			mu.Unlock()
			return v
		}).(int)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if got := get(k1{}, 1); got != 1 {
				t.Errorf("k1: %d", got)
			}
		})
	}
	wg.Wait()
	if get(k2{1}, 2) != 2 || get(k2{2}, 3) != 3 || get(k2{1}, 9) != 2 {
		t.Error("keys share or lose their values")
	}
	if builds[k1{}] != 1 || builds[k2{1}] != 1 {
		t.Errorf("builds %v, want one per key", builds)
	}
}
