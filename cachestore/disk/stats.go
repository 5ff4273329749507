package disk

// Stats is a snapshot for /stats.
type Stats struct {
	Path       string
	Size       int64 // configured bytes
	Bytes      int64 // bytes of segment files
	Pinned     int64 // bytes of reclaimed segment files still allocated for open Handles
	Objects    int64
	Segments   int
	Loading    bool
	Disabled   bool
	Hits       int64
	Misses     int64
	Evictions  int64
	Reinserted int64
	Corrupt    int64
	CutBytes   int64            // bytes of torn or bad segment tails cut off at load
	Rejected   map[string]int64 // by reason: admission, queue, size, loading
}

// Stats returns the tier's counters.
func (d *Disk) Stats() Stats {
	d.mu.RLock()
	nseg := len(d.segs)
	d.mu.RUnlock()
	s := Stats{Path: d.cfg.Path, Size: d.cfg.Size, Bytes: d.used.Load(), Pinned: d.pinned.Load(), Objects: d.objects.Load(),
		Segments: nseg, Loading: d.loading.Load(), Disabled: d.disabled.Load(), Hits: d.hits.Load(),
		Misses: d.misses.Load(), Evictions: d.evictions.Load(), Reinserted: d.reinserted.Load(),
		Corrupt: d.corrupt.Load(), CutBytes: d.cut.Load(), Rejected: map[string]int64{}}
	for r := range numRejects {
		s.Rejected[r.String()] = d.rejected[r].Load()
	}
	return s
}

// MaxObjectSize is the largest record the tier takes (Config.MaxObjectSize after defaults):
// a body above it is never stored here.
func (d *Disk) MaxObjectSize() int64 { return d.cfg.MaxObjectSize }
