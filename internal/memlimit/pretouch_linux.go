package memlimit

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// populate backs b's pages in one system call. Older kernels (before
// 5.14) refuse MADV_POPULATE_WRITE: false, and b is left as it is.
func populate(b []byte) bool {
	// madvise wants a page-aligned start; large Go allocations are, but
	// do not rely on it.
	page := uintptr(unix.Getpagesize())
	start := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	skip := int((start+page-1)&^(page-1) - start)
	if skip >= len(b) {
		return false
	}
	return unix.Madvise(b[skip:], unix.MADV_POPULATE_WRITE) == nil
}
