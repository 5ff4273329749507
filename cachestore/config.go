package cachestore

// Config sizes the memory tier. The zero value works: a 256 MiB store named "main".
type Config struct {
	MaxBytes int64  // budget in bytes of Object.Cost; 0 means 256 MiB
	Name     string // value of the "store" label on this store's metrics; "" means "main"
	// OnEvict, when set, receives each object the store's eviction policy evicted to make
	// room, or let in and evicted at once (larger than the policy's room), after Set (not
	// deletes and purges): the disk tier below takes them, and decides with its own
	// admission. It runs on the goroutine of the Set that evicted, without the store's index
	// lock, and must not block or call back into the store.
	OnEvict func(*Object)
}

const defaultMaxBytes = 256 << 20

func (c Config) withDefaults() Config {
	if c.MaxBytes <= 0 {
		c.MaxBytes = defaultMaxBytes
	}
	if c.Name == "" {
		c.Name = "main"
	}
	return c
}
