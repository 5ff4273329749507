package conf

// Disk configures the cache's disk tier (cache.disk), the second tier below cache.memory:
// objects memory evicts and objects too large for memory are kept there, across restarts.
// An empty Path means no disk tier. See cachestore/disk for what each key does.
type Disk struct {
	Path           string `yaml:"path"`            // existing directory of the segment files and ban log; "" means no disk tier
	Size           Size   `yaml:"size"`            // bytes the segment files may take; required with path
	SegmentSize    Size   `yaml:"segment_size"`    // default size/16, 1MiB..1GiB
	MaxObjectSize  Size   `yaml:"max_object_size"` // largest record kept on disk; default size/4, at most size/2
	Queue          Size   `yaml:"queue"`           // bytes of writes waiting for the disk; beyond, objects are not written; default 64MiB
	AdmitFrequency int    `yaml:"admit_frequency"` // requests seen before a full tier admits a key; default 2, -1 admits everything
	// RAMCacheCutoff (Traffic Server's proxy.config.cache.ram_cache_cutoff): objects whose
	// Content-Length is larger skip memory and are written to disk only, streamed as they
	// arrive. Zero means cache.max_object_size, above which objects go to disk only anyway.
	RAMCacheCutoff Size `yaml:"ram_cache_cutoff"`
}

// Enabled reports whether the configuration asks for a disk tier.
func (d Disk) Enabled() bool { return d.Path != "" }

func (v *validator) disk(d *Disk) {
	if d.Path == "" {
		if d.Size != 0 {
			v.fail("cache.disk.path", "cache.disk.size is set but path is empty")
		}
		return
	}
	switch {
	case d.Size <= 0:
		v.fail("cache.disk.size", "required with cache.disk.path, and above 0")
		return
	case d.Size < 4<<20:
		v.fail("cache.disk.size", "%s is too small (at least 4MiB)", d.Size)
	}
	if d.SegmentSize < 0 || d.SegmentSize > d.Size {
		v.fail("cache.disk.segment_size", "%s is outside 0..cache.disk.size (%s)", d.SegmentSize, d.Size)
	}
	if d.MaxObjectSize < 0 || d.MaxObjectSize > d.Size/2 {
		v.fail("cache.disk.max_object_size", "%s is larger than half of cache.disk.size (%s)", d.MaxObjectSize, d.Size)
	}
	if d.Queue < 0 {
		v.fail("cache.disk.queue", "%s must not be negative", d.Queue)
	}
	if d.RAMCacheCutoff < 0 {
		v.fail("cache.disk.ram_cache_cutoff", "%s must not be negative", d.RAMCacheCutoff)
	}
	if d.AdmitFrequency < -1 {
		v.fail("cache.disk.admit_frequency", "%d: -1 (admit everything), 0 (default) or more", d.AdmitFrequency)
	}
	// The tier's estimate is counters capped at 15 plus a doorkeeper bit (cachestore/disk
	// admit.go): above 16 a full tier would admit nothing.
	if d.AdmitFrequency > maxAdmitFrequency {
		v.fail("cache.disk.admit_frequency", "%d is above %d, the most the tier's frequency sketch counts: a full tier would admit nothing", d.AdmitFrequency, maxAdmitFrequency)
	}
}

// maxAdmitFrequency is the largest frequency the disk tier's admission sketch can estimate.
const maxAdmitFrequency = 16
