package cachestore

// Config sizes the memory tier. The zero value works: a 256 MiB store named "main".
type Config struct {
	MaxBytes    int64  // budget in bytes of Object.Cost; 0 means 256 MiB
	NumCounters int64  // TinyLFU counters; 0 means derive from MaxBytes (about 10 per expected object of 4 KiB, bounded)
	Name        string // value of the "store" label on this store's metrics; "" means "main"
	// OnEvict, when set, receives each object ristretto evicted to make room or its admission
	// policy refused after Set (not deletes and purges): the disk tier below takes them, and
	// decides with its own admission. It runs on ristretto's goroutine, without the store's
	// locks, and must not block or call back into the store.
	OnEvict func(*Object)
}

const (
	defaultMaxBytes    = 256 << 20
	expectedObjectSize = 4 << 10
	countersPerObject  = 10
	minCounters        = 10_000
	// maxCounters caps the admission sketch at about 200 MiB of counters.
	maxCounters = 100_000_000
	// bufferItems is ristretto's recommended Get buffer size.
	bufferItems = 64
)

func (c Config) withDefaults() Config {
	if c.MaxBytes <= 0 {
		c.MaxBytes = defaultMaxBytes
	}
	if c.NumCounters <= 0 {
		c.NumCounters = min(max(c.MaxBytes/expectedObjectSize*countersPerObject, minCounters), maxCounters)
	}
	if c.Name == "" {
		c.Name = "main"
	}
	return c
}
