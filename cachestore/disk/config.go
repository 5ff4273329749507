package disk

import (
	"fmt"
	"log/slog"
	"time"
)

// Config is the disk tier of one node. Path and Size are required; the zero value of every
// other field picks the default it names.
type Config struct {
	Path string // existing directory of the segment files and the ban log (cache.disk.path)
	Size int64  // bytes the segment files may take on disk, records and their headers (cache.disk.size)

	// SegmentSize is the size a segment is sealed at. 0: Size/16, between 1 MiB and 1 GiB.
	SegmentSize int64
	// MaxObjectSize is the largest record (head, body and metadata) accepted. 0: Size/4.
	MaxObjectSize int64
	// QueueBytes bounds the bytes of Puts waiting for the writer; a Put past it is dropped,
	// never blocked. 0: 64 MiB.
	QueueBytes int64
	// AdmitFrequency is how often Get or Touch must have seen a key recently for Put to admit
	// it once the tier is full. 0: 2. A negative value admits everything (no TinyLFU).
	AdmitFrequency int
	// Counters sizes the admission sketch (5 bytes each) and its aging window: TinyLFU's sample
	// of recent requests, about 10x the objects the tier holds. 0: 10 per 64 KiB of Size,
	// between 4096 and 16M (80 MiB of memory at 100 GiB).
	Counters int
	// RetryInterval is how long after a failure turned the tier off it first probes the
	// directory again (exists, room for a segment, a file written and synced), doubling
	// after each failed probe up to RetryMaxInterval. 0: 1s. Negative: the tier stays off
	// until the process restarts.
	RetryInterval time.Duration
	// RetryMaxInterval bounds the wait between probes. 0: 1 minute.
	RetryMaxInterval time.Duration
	// Logger receives the lines written when the tier turns itself off and on again. nil:
	// slog.Default().
	Logger *slog.Logger

	fs     fsys        // nil: the operating system's; tests inject faults here
	probed func(error) // tests: called by the writer goroutine after each probe (nil: revived)
}

func (c *Config) withDefaults() (Config, error) {
	d := *c
	if d.Path == "" {
		return d, fmt.Errorf("disk: path is empty")
	}
	if d.Size <= 0 {
		return d, fmt.Errorf("disk: size %d is not positive", d.Size)
	}
	if d.SegmentSize <= 0 {
		d.SegmentSize = min(max(d.Size/16, 1<<20), 1<<30)
	}
	if d.MaxObjectSize <= 0 {
		d.MaxObjectSize = d.Size / 4
	}
	if d.MaxObjectSize > d.Size/2 {
		return d, fmt.Errorf("disk: max object size %d is more than half of size %d", d.MaxObjectSize, d.Size)
	}
	if d.QueueBytes <= 0 {
		d.QueueBytes = 64 << 20
	}
	if d.AdmitFrequency == 0 {
		d.AdmitFrequency = 2
	}
	if d.Counters <= 0 {
		d.Counters = int(min(max(10*d.Size/(64<<10), 4096), 1<<24))
	}
	if d.RetryInterval == 0 {
		d.RetryInterval = time.Second
	}
	if d.RetryMaxInterval <= 0 {
		d.RetryMaxInterval = time.Minute
	}
	d.RetryMaxInterval = max(d.RetryMaxInterval, d.RetryInterval)
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.fs == nil {
		d.fs = osFS{}
	}
	return d, nil
}
