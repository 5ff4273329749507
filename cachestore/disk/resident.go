package disk

import (
	"os"
	"sync/atomic"
)

// residency answers Handle.Resident for one tier. Whether a segment is on tmpfs or ramfs,
// where every page of a file is in memory (or, on tmpfs, in swap), is the segment's own
// (segment.memory: asked when it is created or opened, since the directory may be remounted
// under a running tier). Asking cachestat(2) there costs 3.7 µs per 256 KiB range (shmem
// looks up each page's swap entry; 0.4 µs on ext4), near a tenth of a hit.
type residency struct {
	// unknown: cachestat(2) is missing (ENOSYS, Linux before 6.5) or refused, so nothing
	// is known to be resident and every read may wait for the device.
	unknown atomic.Bool
}

// Resident reports whether the body bytes [off, off+n) (off from the body's start) are in
// the page cache now, so that reading them, by ReadAt or by sendfile(2) from File, copies
// from memory and does not wait for the device. It answers true on tmpfs and ramfs without
// asking (a tmpfs page in swap is taken as resident), and right after a Get that read the
// record to verify it; otherwise it asks cachestat(2) (Linux 6.5; before, or on any error,
// it answers false). A page may leave the cache just after: the answer is a hint, for a
// caller choosing how to wait for a read, never a reason to skip one.
func (h *Handle) Resident(off, n int64) bool {
	if n <= 0 || h.mem != nil {
		return true
	}
	if h.d == nil {
		return false
	}
	if h.seg.memory {
		return true
	}
	r := &h.d.res
	if r.unknown.Load() {
		return false
	}
	f, ok := h.seg.f.(*os.File)
	if !ok {
		return false
	}
	start := h.bodyOff + off
	cached, unsupported, err := cachedPages(f.Fd(), start, n)
	if err != nil {
		if unsupported {
			r.unknown.Store(true)
		}
		return false
	}
	page := int64(os.Getpagesize()) // cachestat counts base pages, its range rounded out to them
	pages := (start+n-1)/page - start/page + 1
	return cached >= pages
}
