package disk

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sys/unix"
)

// Errors of Get. Each means "not served from disk: go on to the origin"; none is a failure of
// the request.
var (
	ErrNotFound = errors.New("disk: not found")
	ErrLoading  = errors.New("disk: index still loading")
	ErrDisabled = errors.New("disk: tier disabled")
	ErrCorrupt  = errors.New("disk: checksum mismatch, object dropped")
)

// Disk is the disk tier. Get, Put, Touch, AddBan, Delete and Stats may be called from any
// goroutine; Put never blocks on I/O.
type Disk struct {
	cfg     Config
	log     *slog.Logger
	lockf   *os.File
	admit   *admission
	met     *metrics
	closeMu sync.RWMutex // Put holds it shared while sending; Close exclusively while closing the queue
	closed  bool

	banMu sync.Mutex // serialises AddBan and ban log compaction; taken before mu

	mu      sync.RWMutex
	index   map[string]*entry
	segs    []*segment // oldest first
	active  *segment   // the segment being appended to, also last in segs; nil until the first write
	nextID  uint64
	bans    *banSet
	banList []*Ban // in log order, for compaction
	banlog  *banLog
	maxBans int // maxBans; tests lower it

	gen      atomic.Uint64
	used     atomic.Int64 // bytes of all segments
	objects  atomic.Int64
	queued   atomic.Int64 // bytes waiting for the writer
	loading  atomic.Bool
	full     atomic.Bool // reclaim has begun (or the loaded index came within two segments of Size)
	disabled atomic.Bool

	queue    chan *pending
	stop     chan struct{}
	loadDone chan struct{}
	wg       sync.WaitGroup

	hits, misses, evictions, reinserted, corrupt, refused, cut atomic.Int64
	rejected                                                   [numRejects]atomic.Int64
}

type pending struct {
	rec   Record
	gen   uint64
	size  int64
	flush chan struct{} // a Wait marker instead of a record
}

type rejectReason int

const (
	rejectAdmission rejectReason = iota // TinyLFU said no
	rejectQueue                         // the write queue was full
	rejectSize                          // larger than MaxObjectSize
	rejectLoading                       // it needed an eviction while the index was loading
	numRejects
)

func (r rejectReason) String() string {
	return [...]string{"admission", "queue", "size", "loading"}[r]
}

// Open starts the tier in cfg.Path and returns at once: the index loads in the background
// and Get answers ErrLoading until it is done, so misses go to the origin meanwhile. Only a
// bad Config or a metrics registration error is returned; a directory that cannot be
// created, locked or read yields a disabled tier and a log line, as a failure later does.
// reg may be nil.
func Open(cfg Config, reg prometheus.Registerer) (*Disk, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	d := &Disk{
		cfg: c, log: c.Logger, admit: newAdmission(c.Counters), index: make(map[string]*entry),
		bans: newBanSet(), queue: make(chan *pending, 4096), stop: make(chan struct{}),
		loadDone: make(chan struct{}), maxBans: maxBans,
	}
	if d.met, err = newMetrics(d, reg); err != nil {
		return nil, err
	}
	d.gen.Store(1)
	ids, err := d.openDir()
	if err != nil {
		d.disable("open", err)
		close(d.loadDone)
		d.wg.Add(1)
		go d.writeLoop()
		return d, nil
	}
	d.loading.Store(true)
	d.wg.Add(2)
	go d.writeLoop()
	go d.load(ids)
	return d, nil
}

// openDir locks the directory, reads the ban log and opens every segment. It does not create
// the directory: a missing one is most often a disk that failed to mount, and creating it
// would fill the root file system instead.
func (d *Disk) openDir() ([]*segment, error) {
	if err := isDir(d.cfg.Path); err != nil {
		return nil, err
	}
	lf, err := os.OpenFile(filepath.Join(d.cfg.Path, "lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(lf.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		lf.Close()
		return nil, fmt.Errorf("locking %s (another process uses it?): %w", lf.Name(), err)
	}
	d.lockf = lf
	bl, bans, err := openBanLog(d.cfg.fs, d.cfg.Path)
	if err != nil {
		return nil, err
	}
	d.banlog = bl
	var gen uint64
	for _, b := range bans {
		gen = max(gen, b.Generation)
		if b.Kind != banMark {
			d.bans.add(b)
			d.banList = append(d.banList, b)
		}
	}
	d.gen.Store(max(gen, 1)) // never 0: Record.Generation 0 means "now"
	ids, err := listSegments(d.cfg.Path)
	if err != nil {
		return nil, err
	}
	// Segments join d.segs as they open, so Close releases them if a later one fails.
	for _, id := range ids {
		f, err := d.cfg.fs.OpenFile(segmentPath(d.cfg.Path, id), os.O_RDWR, 0)
		if err != nil {
			return nil, err
		}
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, err
		}
		s := &segment{id: id, path: segmentPath(d.cfg.Path, id), f: f, size: fi.Size(), minGen: ^uint64(0)}
		s.refs.Store(1)
		d.segs = append(d.segs, s)
		d.used.Add(s.size)
		d.nextID = id + 1
	}
	return slices.Clone(d.segs), nil
}

// disable turns the tier off for good: the one log line of a failing directory.
func (d *Disk) disable(op string, err error) {
	if d.disabled.CompareAndSwap(false, true) {
		d.log.Error("disk: cache tier disabled, serving from memory only", "path", d.cfg.Path, "op", op, "err", err)
	}
}

// Disabled reports whether a failure turned the tier off.
func (d *Disk) Disabled() bool { return d.disabled.Load() }

// Loaded is closed when the index has been loaded (or loading gave up).
func (d *Disk) Loaded() <-chan struct{} { return d.loadDone }

// Begin returns the tier's generation; read it when a fill starts and pass it in
// Record.Generation, so a ban made during the fill refuses the record.
func (d *Disk) Begin() uint64 { return d.gen.Load() }

// Touch counts one request for key in the admission sketch without a lookup. Call it on
// hits of the memory tier, so keys that memory serves well are known when memory evicts them.
func (d *Disk) Touch(key string) { d.admit.touch(key) }

// Get returns the object stored under key, or one of ErrNotFound, ErrLoading, ErrDisabled,
// ErrCorrupt. The first Get of an object loaded from disk reads and checksums the whole
// record; a mismatch drops the object. The caller must Close the Handle.
func (d *Disk) Get(key string) (*Handle, error) {
	start := time.Now()
	d.admit.touch(key)
	if d.disabled.Load() {
		return nil, ErrDisabled
	}
	if d.loading.Load() {
		return nil, ErrLoading
	}
	d.mu.RLock()
	e := d.index[key]
	if e != nil {
		e.seg.acquire() // under mu: a reclaim cannot drop the store's reference in between
	}
	d.mu.RUnlock()
	if e == nil {
		d.misses.Add(1)
		return nil, ErrNotFound
	}
	h := &Handle{Key: e.key, URL: e.url(), Tags: e.tags, RequestTime: fromNano(e.reqTime),
		ResponseTime: fromNano(e.respTime), Expires: fromNano(e.expires), Generation: e.gen, SoftPurged: e.soft.Load(),
		seg: e.seg, bodyOff: e.off + e.headOff + e.headLen, bodyLen: e.bodyLen}
	if e.verified.Load() {
		h.Head = make([]byte, e.headLen)
		if _, err := e.seg.f.ReadAt(h.Head, e.off+e.headOff); err != nil {
			e.seg.release()
			d.disable("read", err)
			return nil, ErrDisabled
		}
	} else {
		rec := make([]byte, e.size)
		if _, err := e.seg.f.ReadAt(rec, e.off); err != nil {
			e.seg.release()
			d.disable("read", err)
			return nil, ErrDisabled
		}
		if recordSum(rec) != e.sum {
			e.seg.release()
			d.corrupt.Add(1)
			d.drop(e)
			d.log.Warn("disk: checksum mismatch, object dropped", "key", key, "segment", e.seg.path, "offset", e.off)
			return nil, ErrCorrupt
		}
		e.verified.Store(true)
		h.Head = append([]byte(nil), rec[e.headOff:e.headOff+e.headLen]...) // not the whole record's buffer
	}
	e.hit.Store(true)
	d.hits.Add(1)
	d.met.read.Observe(time.Since(start).Seconds())
	return h, nil
}

// drop removes e from the index if it is still what its key maps to.
func (d *Disk) drop(e *entry) {
	d.mu.Lock()
	if d.index[e.key] == e {
		delete(d.index, e.key)
		d.objects.Add(-1)
	}
	d.mu.Unlock()
}

// admits is TinyLFU's choice once the tier is full: the candidate must have been asked for
// AdmitFrequency times recently and more often than the object reclaim would drop next
// (the oldest segment's first live record not hit since written).
func (d *Disk) admits(key string) bool {
	f := d.admit.estimate(key)
	if f < d.cfg.AdmitFrequency {
		return false
	}
	victim, ok := d.victim()
	return !ok || f > d.admit.estimate(victim)
}

// victim looks at the first 64 records of the oldest segment for the next one to be evicted.
func (d *Disk) victim() (string, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if len(d.segs) == 0 {
		return "", false
	}
	s := d.segs[0]
	for _, e := range s.entries[:min(len(s.entries), 64)] {
		if d.index[e.key] == e && !e.hit.Load() {
			return e.key, true
		}
	}
	return "", false
}

// Put queues rec for writing and reports whether it was queued. It never blocks on I/O: a
// record is dropped when the tier is disabled or closed, larger than MaxObjectSize, refused
// by admission while the tier is full, or when the write queue holds QueueBytes already.
// rec.Head and rec.Body must not change afterwards.
func (d *Disk) Put(rec Record) bool {
	if d.disabled.Load() {
		return false
	}
	size := int64(headerSize + len(rec.Key) + len(rec.URL) + len(rec.Head) + len(rec.Body))
	for _, t := range rec.Tags {
		size += int64(2 + len(t))
	}
	if size > d.cfg.MaxObjectSize {
		d.rejected[rejectSize].Add(1)
		return false
	}
	// Full is sticky once reclaim has begun: it frees a segment at a time, and admitting
	// everything until that segment's room is used again would let a scan in.
	full := d.full.Load() || d.used.Load()+d.queued.Load()+size > d.cfg.Size
	if d.cfg.AdmitFrequency > 0 && full &&
		!d.admits(rec.Key) {
		d.rejected[rejectAdmission].Add(1)
		return false
	}
	gen := rec.Generation
	if gen == 0 {
		gen = d.gen.Load()
	}
	if d.queued.Add(size) > d.cfg.QueueBytes {
		d.queued.Add(-size)
		d.rejected[rejectQueue].Add(1)
		return false
	}
	p := &pending{rec: rec, gen: gen, size: size}
	d.closeMu.RLock()
	defer d.closeMu.RUnlock()
	if d.closed {
		d.queued.Add(-size)
		return false
	}
	select {
	case d.queue <- p:
		return true
	default:
		d.queued.Add(-size)
		d.rejected[rejectQueue].Add(1)
		return false
	}
}

// Wait returns when every Put queued before it has been written or dropped. For tests and
// for an orderly handover; the request path never needs it.
func (d *Disk) Wait() {
	done := make(chan struct{})
	d.closeMu.RLock()
	if d.closed {
		d.closeMu.RUnlock()
		return
	}
	d.queue <- &pending{flush: done}
	d.closeMu.RUnlock()
	<-done
}

// Delete bans one key. It is a ban (persisted) rather than an unlink, so the record cannot
// come back at the next load.
func (d *Disk) Delete(key string) int { return d.AddBan(Ban{Kind: BanKey, Value: key}) }

// AddBan applies b: it takes the next generation, persists b in the ban log (fsynced), drops
// the objects it matches (marks them SoftPurged if b.Soft) and returns how many. Records
// written later with an older Generation are refused, and loaded records it matches are never
// indexed. Bans learned from peers come in here too, with their Time. Kinds other than BanKey
// scan the index under its read lock: O(objects), about 16-20 ms per 100,000 objects
// (BenchmarkDisk_BanScan), during which Gets go on. AddBans run one at a time.
func (d *Disk) AddBan(b Ban) int {
	d.banMu.Lock()
	defer d.banMu.Unlock()
	d.mu.Lock()
	b.Generation = d.gen.Add(1)
	d.bans.add(&b) // from here on every record published is judged against b
	d.banList = append(d.banList, &b)
	d.mu.Unlock()
	if d.banlog != nil && !d.disabled.Load() {
		if err := d.banlog.append(&b); err != nil {
			// Without the log a restart would serve what this ban removes: stop serving from disk.
			d.disable("ban log", err)
		}
	}
	// The scan runs under the read lock, so Gets go on meanwhile; the write lock is held only
	// to remove what it found. An entry replaced in between is newer than b and stays.
	var found []*entry
	d.mu.RLock()
	if b.Kind == BanKey {
		if e := d.index[b.Value]; e != nil && b.matches(e) {
			found = append(found, e)
		}
	} else {
		for _, e := range d.index {
			if b.matches(e) {
				found = append(found, e)
			}
		}
	}
	d.mu.RUnlock()
	if len(found) == 0 {
		return 0
	}
	n := 0
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, e := range found {
		if d.index[e.key] != e {
			continue
		}
		n++
		if b.Soft {
			e.soft.Store(true)
			continue
		}
		delete(d.index, e.key)
		d.objects.Add(-1)
	}
	return n
}

// Bans returns the bans kept (persisted and not yet compacted away), oldest first, with
// their Time: what a peer rejoining after a restart asks for.
func (d *Disk) Bans() []Ban {
	d.mu.RLock()
	defer d.mu.RUnlock()
	out := make([]Ban, len(d.banList))
	for i, b := range d.banList {
		out[i] = *b
	}
	return out
}

// Stats is a snapshot for /stats.
type Stats struct {
	Path       string
	Size       int64 // configured bytes
	Bytes      int64 // bytes of segment files
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
	s := Stats{Path: d.cfg.Path, Size: d.cfg.Size, Bytes: d.used.Load(), Objects: d.objects.Load(),
		Segments: nseg, Loading: d.loading.Load(), Disabled: d.disabled.Load(), Hits: d.hits.Load(),
		Misses: d.misses.Load(), Evictions: d.evictions.Load(), Reinserted: d.reinserted.Load(),
		Corrupt: d.corrupt.Load(), CutBytes: d.cut.Load(), Rejected: map[string]int64{}}
	for r := range numRejects {
		s.Rejected[r.String()] = d.rejected[r].Load()
	}
	return s
}

// Close stops loading, writes what is queued, syncs the active segment, and releases the
// directory. Handles still open stay readable until they are closed.
func (d *Disk) Close() error {
	d.closeMu.Lock()
	if d.closed {
		d.closeMu.Unlock()
		return nil
	}
	d.closed = true
	close(d.queue)
	d.closeMu.Unlock()
	close(d.stop)
	d.wg.Wait()
	d.mu.Lock()
	defer d.mu.Unlock()
	var err error
	if d.active != nil && !d.disabled.Load() {
		if e := d.active.f.Sync(); e != nil {
			err = fmt.Errorf("disk: syncing %s: %w", d.active.path, e)
		}
	}
	for _, s := range d.segs {
		s.release()
	}
	d.segs, d.active, d.index = nil, nil, map[string]*entry{}
	if d.banlog != nil {
		d.banlog.close()
	}
	if d.lockf != nil {
		d.lockf.Close() // releases the flock
	}
	d.met.unregister()
	return err
}
