//go:build !linux

package memlimit

// populate is not available: touching each page by hand faults them one by
// one, which is what Pretouch avoids.
func populate([]byte) bool { return false }
