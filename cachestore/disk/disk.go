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

	banMu      sync.Mutex // serialises AddBan and ban log compaction; taken before mu
	missedBans int        // bans the log did not take since the directory was last (re)opened (missed.go); banMu
	maxMissed  int        // maxMissedBans; tests lower it
	overflow   bool       // more than maxMissedBans: the segments were removed (missed.go); banMu

	mu        sync.RWMutex
	index     *objIndex
	segs      []*segment // oldest first
	active    *segment   // the segment being appended to, also last in segs; nil until the first write
	nextID    uint64
	bans      *banSet
	banList   []*Ban // in log order, for compaction
	banlog    *banLog
	maxBans   int   // maxBans; tests lower it
	syncEvery int64 // syncEvery (synced.go); tests lower it

	clean  cleanMark        // what the last clean Close synced (clean.go)
	verify map[uint64]int64 // crash-left segments the loader verifies, from these offsets (verify.go)
	// verified: the loader went through every segment Open found, so the newest was
	// checked (or trusted by clean); a Close before that must not vouch for it (clean.go).
	verified  atomic.Bool
	gen       atomic.Uint64
	used      atomic.Int64 // bytes of all segments
	reserved  atomic.Int64 // room promised to spools and to the append under way (room.go)
	pinned    atomic.Int64 // bytes of reclaimed segment files still allocated for open Handles (pin.go)
	roomMu    sync.Mutex   // orders claims against each other (room.go)
	roomAsked atomic.Bool  // a room request is queued for the writer
	objects   atomic.Int64
	queued    atomic.Int64 // bytes waiting for the writer
	loading   atomic.Bool
	full      atomic.Bool // reclaim has begun (or the loaded index came within two segments of Size)
	disabled  atomic.Bool
	missed    atomic.Bool // a ban did not reach the log since the directory was last (re)opened
	opened    atomic.Bool // the tier took its directory, at Open or later (revive.go)
	wake      chan struct{}
	revived   chan struct{} // closed when the load of the last revival ends (revive.go); guarded by mu
	// since is the directory's last activity before the tier first took it (LastActive);
	// written before firstLoad is closed.
	since     time.Time
	firstLoad chan struct{} // closed when the index of the tier's first directory is loaded (Opened)

	disables, revivals atomic.Int64
	retry              revival   // writer goroutine only (revive.go)
	res                residency // what Handle.Resident knows of the directory's file system (resident.go)

	queue    chan *pending
	stop     chan struct{}
	loadDone chan struct{}
	wg       sync.WaitGroup

	hits, misses, evictions, reinserted, corrupt, refused, cut atomic.Int64
	rejected                                                   [numRejects]atomic.Int64
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
		cfg: c, log: c.Logger, admit: newAdmission(c.Counters), index: newObjIndex(),
		bans: newBanSet(), queue: make(chan *pending, 4096), stop: make(chan struct{}),
		loadDone: make(chan struct{}), maxBans: maxBans, maxMissed: maxMissedBans, syncEvery: syncEvery, wake: make(chan struct{}, 1),
	}
	if d.met, err = newMetrics(d, reg); err != nil {
		return nil, err
	}
	d.gen.Store(1)
	d.since = LastActive(c.Path) // before the lock, the verify list or anything else is written
	ids, err := d.openDir()
	if err != nil {
		// The writer goroutine probes the directory as after a later failure (revive.go):
		// an operator who mounts or creates it, or stops the other process holding it,
		// gets the tier without a restart.
		d.disable("open", err)
		close(d.loadDone)
		d.firstLoad = make(chan struct{})
		d.wg.Add(1)
		go d.writeLoop()
		return d, nil
	}
	d.opened.Store(true)
	d.firstLoad = d.loadDone
	d.loading.Store(true)
	d.wg.Add(2)
	go d.writeLoop()
	go d.load(ids, d.loadDone)
	return d, nil
}

// openDir locks the directory, reads the ban log and opens every segment. It does not create
// the directory: a missing one is most often a disk that failed to mount, and creating it
// would fill the root file system instead.
func (d *Disk) openDir() ([]*segment, error) {
	if err := isDir(d.cfg.Path); err != nil {
		return nil, err
	}
	lf, err := lockDir(d.cfg.Path)
	if err != nil {
		return nil, err
	}
	d.lockf = lf
	// Segments a process set aside for bans it could not log, and stopped before logging
	// them (missed.go): what they hold may be purged, by bans no one kept.
	if n, err := removeSegments(d.cfg.Path, false); err != nil {
		return nil, fmt.Errorf("removing segments set aside by the last run: %w", err)
	} else if n > 0 {
		d.log.Warn("disk: removed segments the last run set aside for bans it could not log", "path", d.cfg.Path, "segments", n)
	}
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
	d.clean = readClean(d.cfg.Path)
	// Segments join d.segs as they open, so Close releases them if a later one fails.
	for _, id := range ids {
		s, err := d.openSegment(id)
		if err != nil {
			return nil, err
		}
		d.segs = append(d.segs, s)
		d.used.Add(s.size)
		d.nextID = id + 1
	}
	if len(d.segs) > 0 {
		if d.verify, err = d.toVerify(d.segs, nil); err != nil {
			return nil, err
		}
	}
	return slices.Clone(d.segs), nil
}

// lockDir takes the directory's lock file, so that two processes never share it.
func lockDir(dir string) (*os.File, error) {
	lf, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(lf.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		lf.Close()
		return nil, fmt.Errorf("locking %s (another process uses it?): %w", lf.Name(), err)
	}
	return lf, nil
}

// openSegment opens the segment file id of the directory, its size what the file holds.
func (d *Disk) openSegment(id uint64) (*segment, error) {
	f, err := d.cfg.fs.OpenFile(segmentPath(d.cfg.Path, id), os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	s := &segment{id: id, path: segmentPath(d.cfg.Path, id), f: f, size: fi.Size(), minGen: ^uint64(0),
		memory: memoryBacked(segmentPath(d.cfg.Path, id))}
	s.refs.Store(1)
	return s, nil
}

// disable turns the tier off: the one log line of a failing directory. The writer
// goroutine then probes the directory until it is usable again (revive.go).
func (d *Disk) disable(op string, err error) {
	if d.disabled.CompareAndSwap(false, true) {
		d.disables.Add(1)
		d.log.Error("disk: cache tier disabled, serving from memory only", "path", d.cfg.Path, "op", op, "err", err,
			"retry", d.cfg.RetryInterval > 0)
		select {
		case d.wake <- struct{}{}:
		default:
		}
	}
}

// Disabled reports whether a failure turned the tier off (and it has not come back yet).
func (d *Disk) Disabled() bool { return d.disabled.Load() }

// Loaded is closed when the index Open started loading has been loaded (or loading gave
// up), at once when Open could not take the directory. A tier that comes back after a
// failure loads again; Loading says so meanwhile.
func (d *Disk) Loaded() <-chan struct{} { return d.loadDone }

// Opened is closed once the tier has taken its directory and loaded the index it found
// there: with Loaded when Open took it; for a directory missing, unusable or locked at Open,
// when the tier first comes on (revive.go). Never closed if that does not happen.
func (d *Disk) Opened() <-chan struct{} { return d.firstLoad }

// Since is the last activity in the directory before the tier first took it (LastActive):
// how far back the purges a restarted node missed may go. Read it once Opened is closed.
func (d *Disk) Since() time.Time { return d.since }

// Begin returns the tier's generation; read it when a fill starts and pass it in
// Record.Generation, so a ban made during the fill refuses the record.
func (d *Disk) Begin() uint64 { return d.gen.Load() }

// Touch counts one request for key in the admission sketch without a lookup. Call it on
// hits of the memory tier, so keys that memory serves well are known when memory evicts them.
func (d *Disk) Touch(key string) { d.admit.touch(key) }

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
	if n := len(d.segs); err == nil && n > 0 && !d.disabled.Load() {
		// Sealed segments were synced when sealed; the newest may be a loaded one whose tail
		// a crash before this run left in the page cache only.
		newest := d.segs[n-1]
		// A load stopped before it checked the newest segment (a crash left it) must not
		// vouch for it: the next load verifies it whole.
		vouch := d.verified.Load() || d.clean.trusts(newest)
		if e := newest.f.Sync(); e != nil {
			d.log.Warn("disk: syncing the newest segment", "err", e)
		} else if !vouch {
			d.log.Info("disk: no clean-stop marker: closed before the load checked the newest segment")
		} else if e := writeClean(d.cfg.Path, newest); e != nil {
			d.log.Warn("disk: writing the clean-stop marker", "err", e)
		}
	}
	for _, s := range d.segs {
		s.release()
	}
	d.segs, d.active, d.index = nil, nil, newObjIndex()
	if d.banlog != nil {
		d.banlog.close()
	}
	if d.lockf != nil {
		d.lockf.Close() // releases the flock
	}
	d.met.unregister()
	return err
}
