package edge

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/shoal-cdn/shoal/cachestore"
	"github.com/shoal-cdn/shoal/cachestore/disk"
	"github.com/shoal-cdn/shoal/conf"
	"github.com/shoal-cdn/shoal/httpcache"
	"github.com/shoal-cdn/shoal/purge"
)

// diskTier is the node's cache.disk: the tier below memory. Memory evicts into it and a
// memory miss looks in it before going to the origin (see diskLookup).
//
// Loaded objects are served only once the tier is ready: its index is loaded and the
// purges this node missed while it was down have been pulled from its peers and applied
// (openGate). Until then a memory miss goes to the origin, never to a possibly purged copy.
type diskTier struct {
	d     *disk.Disk
	ready atomic.Bool
	// promote is the largest body a disk hit copies back into memory; larger ones are
	// served from the segment file (sendfile on HTTP/1.1) and stay on disk only.
	promote int64
	// metas are the decoded heads of records served from their files (diskmeta.go).
	metas diskMetas
	// detail is a disk hit's Cache-Status detail, "<node>/disk" (cacheOutcome.diskHit).
	detail string
}

// diskMissedPurges bounds how far back a restarted node asks its peers for purges: the
// peers' ban logs keep one hour (purge.CatchUp). Down for longer, the node cannot know what
// it missed and drops everything it loaded.
const diskMissedPurges = time.Hour

// diskPromoteMax is the largest body a disk hit copies back into memory. Larger bodies are
// sent from the page cache with sendfile, as nginx does, and leave memory to small objects
// whose per-request cost is the copy.
const diskPromoteMax = 128 << 10

// diskGateTimeout bounds the wait for the index and the peers' purges at start.
const diskGateTimeout = 30 * time.Second

// openDisk opens cache.disk when configured (nil, nil when not).
func openDisk(cfg *conf.Config, opts Options) (*diskTier, error) {
	dc := cfg.Cache.Disk
	if !dc.Enabled() {
		return nil, nil
	}
	d, err := disk.Open(disk.Config{Path: dc.Path, Size: int64(dc.Size), SegmentSize: int64(dc.SegmentSize),
		MaxObjectSize: int64(dc.MaxObjectSize), QueueBytes: int64(dc.Queue), AdmitFrequency: dc.AdmitFrequency,
		Logger: opts.Logger.With("component", "disk")}, opts.Registry)
	if err != nil {
		return nil, fmt.Errorf("disk tier: %w", conf.At("cache.disk.path", err))
	}
	promote := min(int64(cfg.Cache.MaxObjectSize), diskPromoteMax)
	if c := int64(dc.RAMCacheCutoff); c > 0 {
		promote = min(promote, c) // what memory must not keep, a disk hit must not copy back
	}
	return &diskTier{d: d, promote: promote, detail: cfg.Node.Name + "/disk"}, nil
}

// openGate makes the loaded objects servable once the index is loaded and the purges made
// while this node was down are applied: pulled from every live peer's ban log since the
// tier's directory last changed (disk.LastActive, read before the tier wrote there), each
// applied to memory and disk through purgeTarget. Runs once, in its own goroutine, after
// Start joined the ring. A tier whose directory was missing, unusable or locked at start
// comes on once it is usable (cachestore/disk probes it): the gate then runs as at start,
// since the purges this node saw meanwhile reached its memory only.
func (n *Node) openGate() {
	t := n.disk
	select {
	case <-t.d.Opened():
	case <-time.After(diskGateTimeout):
		if t.d.Disabled() {
			n.log.Warn("disk tier: its directory is unusable; disk hits wait for it", "path", t.d.Stats().Path)
		} else {
			n.log.Warn("disk tier: index still loading; disk hits wait for it")
		}
		select {
		case <-t.d.Opened():
		case <-n.stopReadiness:
			return
		}
	case <-n.stopReadiness:
		return
	}
	since := t.d.Since()
	if n.purge != nil && !since.IsZero() {
		peers := clusterView{n.pipeline}.Peers()
		if len(peers) > 0 && n.now().Sub(since) > diskMissedPurges {
			// Peers' ban logs do not reach back that far: whatever was purged meanwhile is unknown.
			dropped := t.d.AddBan(disk.Ban{Kind: disk.BanAll, Time: n.now()})
			n.log.Warn("disk tier: down longer than the peers' ban logs reach; loaded objects dropped", "objects", dropped)
		}
		for _, p := range peers {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			err := n.purge.CatchUp(ctx, purge.Peer{Name: p.Name, PeerAddr: p.PeerAddr}, since.Add(-catchUpSkew))
			cancel()
			if err != nil {
				n.log.Warn("disk tier: purge catch-up from a peer failed", "peer", p.Name, "err", err)
			}
		}
	}
	t.ready.Store(true)
	n.log.Info("disk tier ready", "objects", t.d.Stats().Objects)
	n.keepAlive(n.rt.Load().cfg.Cache.Disk.Path)
}

// aliveInterval is how often a running node touches its disk directory, the lower bound of
// the purges it asks its peers for after a crash (lastActive).
const aliveInterval = 30 * time.Second

// keepAlive touches dir every aliveInterval until Shutdown, except while the tier is off.
func (n *Node) keepAlive(dir string) {
	tick := time.NewTicker(aliveInterval)
	defer tick.Stop()
	for {
		// While a failure (ENOSPC, EIO) keeps the tier off, the purges this node sees reach no
		// ban log on disk, so its last activity must stay when it still wrote, and a restart
		// asks its peers for everything purged since. Once the tier is back (the segments a
		// missed purge could concern removed: cachestore/disk), the touches go on.
		if !n.disk.d.Disabled() {
			now := n.now()
			if err := os.Chtimes(dir, now, now); err != nil {
				n.log.Debug("disk tier: touch directory", "err", err)
			}
		}
		select {
		case <-tick.C:
		case <-n.stopReadiness:
			return
		}
	}
}

// diskBan applies a purge to the disk tier. Before memory: a request that misses memory
// between the two must not find the old copy on disk and promote it into memory after
// memory's purge, where it would outlive both (once the disk's ban is in, a promotion read
// from disk before it carries a memory generation older than memory's purge, which refuses
// it or removes it). An object memory evicts or writes through meanwhile carries the disk
// generation read when it was stored, below this ban's, so the disk refuses it.
//
// No Time: the generations order a local purge against every record exactly, and a ban with
// the purge's wall-clock time would spare a record filled at the same clock reading.
func (p *pipeline) diskBan(kind disk.BanKind, value string, soft bool) {
	if p.disk == nil {
		return
	}
	p.disk.d.AddBan(disk.Ban{Kind: kind, Value: value, Soft: soft})
}

// generations are the purge generations of both tiers, read together when a fill starts:
// a purge after that moment matches the object on both tiers, whatever order the purge
// reaches them in and whenever the fill ends. Reading the disk's at store time instead let
// a fill that ended between a purge's disk ban and its memory purge reach disk after the
// ban, and be served from disk once the memory purge removed it.
type generations struct{ memory, disk uint64 }

func (p *pipeline) begin() generations {
	g := generations{memory: p.store.Begin()}
	if p.disk != nil {
		g.disk = p.disk.d.Begin()
	}
	return g
}

// setObject stores o in memory and, once memory took it, writes it through to disk.
//
// Written at fill time rather than only when memory evicts it (the order of nginx and
// Traffic Server): what memory holds at a SIGKILL or a SIGTERM is on disk too, so a restart
// refetches nothing; the disk's TinyLFU admission keeps one-hit wonders off it once full.
// Objects the write did not take (queue full, admission) go to disk when memory evicts them.
//
// Purges: both generations were read at fill start (see generations): each tier refuses an
// object that a purge made during its fill matches.
func (p *pipeline) setObject(o *cachestore.Object, diskGen uint64) bool {
	m := o.Meta
	if p.disk == nil || m == nil {
		return p.store.Set(o)
	}
	m.DiskGen = diskGen
	m.OnDisk.Store(true) // memory evicting it before the write below must not write it too
	if !p.store.Set(o) {
		return false
	}
	if !p.putDisk(o, m) {
		m.OnDisk.Store(false)
	}
	return true
}

// evictToDisk is memory's OnEvict: it runs on the goroutine of the Set that evicted and must
// not block (disk.Put only queues). Objects already on disk are not written again.
//
// A compressed copy (compress.VariantKey) is never written: it shares its identity object's
// meta, so writing it would mark the identity as on disk, and no lookup reads it from disk.
func (p *pipeline) evictToDisk(o *cachestore.Object) {
	m := o.Meta
	if m == nil || m.DiskGen == 0 || compressedCopy(o) || !m.OnDisk.CompareAndSwap(false, true) {
		return
	}
	if !p.putDisk(o, m) {
		m.OnDisk.Store(false)
	}
}

// compressedCopy reports whether o is a compressed copy of a stored object: its key is the
// identity's plus "\x00enc:<encoding>".
func compressedCopy(o *cachestore.Object) bool {
	return len(o.Key) > len(o.URL) && strings.Contains(o.Key[len(o.URL):], "\x00enc:")
}

// putDisk queues o for the disk tier (see diskRecord for what is not written).
func (p *pipeline) putDisk(o *cachestore.Object, m *cachestore.Meta) bool {
	rec, ok := p.diskRecord(o, m)
	if !ok || !p.disk.d.Put(rec) {
		return false
	}
	if testHookDiskQueued != nil {
		testHookDiskQueued(rec.Key)
	}
	return true
}

// diskRecord is o as the disk tier stores it, body included, or false when o is not written:
// only the key's owner writes it (a non-owner's hot copy would spend the cluster's disk
// twice); soft-purged and stale objects are not written.
func (p *pipeline) diskRecord(o *cachestore.Object, m *cachestore.Meta) (disk.Record, bool) {
	if o.SoftPurged() {
		return disk.Record{}, false
	}
	if r := p.ring; r != nil {
		if _, self := r.Owner(o.URL); !self {
			return disk.Record{}, false
		}
	}
	now := p.now()
	left := m.Lifetime() - httpcache.CurrentAge(m.Response(o), now)
	if left <= 0 {
		return disk.Record{}, false
	}
	return disk.Record{Key: o.Key, URL: o.URL, Tags: o.Tags.List(), Head: encodeHead(int(o.Status), o.Header.Header()),
		Body: o.Body, RequestTime: o.RequestTime.Time(), ResponseTime: o.ResponseTime.Time(), Expires: now.Add(left),
		Generation: m.DiskGen}, true
}

// diskOnly says whether a response of length bytes (-1: unknown) skips memory and goes to
// the disk tier only: longer than cache.max_object_size, the most memory keeps, or than
// cache.disk.ram_cache_cutoff (Traffic Server's name), below which memory keeps it too.
// A body of unknown length is decided as it grows instead (diskStream).
func (p *pipeline) diskOnly(cfg *conf.Config, length int64) bool {
	if p.disk == nil || length < 0 {
		return false
	}
	limit := int64(cfg.Cache.MaxObjectSize)
	if c := int64(cfg.Cache.Disk.RAMCacheCutoff); c > 0 {
		limit = min(limit, c)
	}
	return length > limit
}

// diskWriter starts the disk copy of a fill whose body memory will not keep (diskOnly): the
// fill writes each chunk into it as it reaches the clients, so no more than one copy buffer
// of it is held in memory. Nil when the tier would not take it (not the owner, no freshness
// left, larger than cache.disk.max_object_size, admission, tier disabled).
//
// Purges: gen.disk was read when the fill started, so a ban made while the body streams
// refuses the record, as for an object memory writes through.
func (p *pipeline) diskWriter(j *fillJob, h *fillHead, gen generations) *disk.Writer {
	o, ok := fillObject(j, h, nil, gen)
	if !ok {
		return nil
	}
	m := o.Meta
	m.DiskGen = gen.disk
	rec, ok := p.diskRecord(o, m)
	if !ok {
		return nil
	}
	w, ok := p.disk.d.NewWriter(rec, h.length)
	if !ok {
		return nil
	}
	return w
}

// diskStream is the disk copy of one fill's body that memory does not keep. The zero value
// copies nothing. Used by the fill's goroutine only.
type diskStream struct {
	w *disk.Writer
	// start, when set, opens w once a body of unknown length grows past at bytes (memory's
	// limit): what the Call kept so far is written first, then every later chunk.
	start func() *disk.Writer
	at    int64
}

// write copies p, the chunk after the first total bytes, before the Call gets it: the
// Call's bytes so far are still kept whole then, even when p takes it past its limit.
func (s *diskStream) write(call *fillCall, total int64, p []byte) {
	if s.w == nil && s.start != nil && total+int64(len(p)) > s.at {
		start := s.start
		s.start = nil
		if sofar, kept := call.Written(); kept && int64(len(sofar)) == total {
			if s.w = start(); s.w != nil {
				s.w.Write(sofar)
			}
		}
	}
	if s.w != nil {
		s.w.Write(p)
	}
}

func (s *diskStream) abort() {
	if s.w != nil {
		s.w.Abort()
	}
}

// commitDisk hands a complete streamed body, key's, to the disk tier and reports whether
// it took it.
func (p *pipeline) commitDisk(key string, w *disk.Writer) bool {
	if w.Commit() {
		p.metrics.stored.Inc()
		if testHookDiskQueued != nil {
			testHookDiskQueued(key)
		}
		return true
	}
	return false
}

// testHookDiskQueued, when set (by tests, before any node starts), learns the key of each
// record queued for the disk tier's writer (a streamed fill's Commit, or memory's eviction):
// after it, disk.Disk.Wait returns once the record is written, so a test knows its next
// lookup is a disk hit without polling.
var testHookDiskQueued func(key string)

// touchDisk tells the disk tier's admission about a memory hit, so that a key memory serves
// well is admitted when memory evicts it.
func (p *pipeline) touchDisk(key string) {
	if p.disk != nil {
		p.disk.d.Touch(key)
	}
}

// closeDisk writes what is queued and releases the directory (Shutdown).
func (p *pipeline) closeDisk() {
	if p.disk == nil {
		return
	}
	if err := p.disk.d.Close(); err != nil {
		p.log.Warn("disk tier: close", "err", err)
	}
}

// diskStats is the tier in /stats and /stats.json.
type diskStats struct {
	State string `json:"state"` // disabled, loading (index or peers' purges) or ready
	Path  string `json:"path"`
	Size  int64  `json:"size"`
	Bytes int64  `json:"bytes"`
	// Pinned is space of reclaimed segments that open readers still hold, counted against
	// Size until they close (cachestore/disk Stats.Pinned).
	Pinned    int64 `json:"pinned"`
	Objects   int64 `json:"objects"`
	Hits      int64 `json:"hits"`
	Misses    int64 `json:"misses"`
	Evictions int64 `json:"evictions"`
}

func (p *pipeline) diskStats() *diskStats {
	if p.disk == nil {
		return nil
	}
	s := p.disk.d.Stats()
	state := "ready"
	switch {
	case s.Disabled:
		state = "disabled"
	case s.Loading || !p.disk.ready.Load():
		state = "loading"
	}
	return &diskStats{State: state, Path: s.Path, Size: s.Size, Bytes: s.Bytes, Pinned: s.Pinned, Objects: s.Objects,
		Hits: s.Hits, Misses: s.Misses, Evictions: s.Evictions}
}

// diskView is the tier on the /stats page.
type diskView struct {
	State   string
	Objects int64
	Bytes   string
	Size    string
	Pinned  string // "" when no reader holds reclaimed space
}
