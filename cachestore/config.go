package cachestore

// Config sizes the memory tier. The zero value works: a 256 MiB store named "main".
type Config struct {
	MaxBytes int64  // budget in bytes of Object.Cost; 0 means 256 MiB
	Name     string // value of the "store" label on this store's metrics; "" means "main"
	// OnEvict, when set, receives each object the store's eviction policy evicted to make
	// room, or let in and evicted at once (larger than the policy's room), after Set (not
	// deletes and purges): the disk tier below takes them, and decides with its own
	// admission. It runs on the goroutine of the Set that evicted (or, rarely, on ristretto's,
	// when two Sets of one key were queued at once), without the store's index lock, and must
	// not block or call back into the store.
	OnEvict func(*Object)
}

const (
	defaultMaxBytes = 256 << 20
	// sketchCounters sizes ristretto's frequency sketch, which it still feeds on every Get
	// but which no longer decides anything: the smallest that keeps its periodic halving
	// cheap, a fixed 40 KiB or so instead of 34 B per object.
	sketchCounters = 10_000
	// bufferItems is ristretto's recommended Get buffer size.
	bufferItems = 64
	// unbounded is ristretto's budget: the store's policy keeps the bytes under
	// Config.MaxBytes, so ristretto never evicts or refuses for room.
	unbounded = 1 << 62
)

func (c Config) withDefaults() Config {
	if c.MaxBytes <= 0 {
		c.MaxBytes = defaultMaxBytes
	}
	if c.Name == "" {
		c.Name = "main"
	}
	return c
}
