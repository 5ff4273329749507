package cachestore

import (
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// Stats is a snapshot of a store's counters.
type Stats struct {
	Objects   int64  // objects held
	Bytes     int64  // sum of their Cost
	Evictions uint64 // objects the eviction policy (policy.go) evicted to make room
	Hits      uint64
	Misses    uint64
	Rejected  uint64 // Sets over the budget, or that the policy evicted at once
	Refused   uint64 // Sets refused because a purge newer than their fill matched them
}

// Memory is the in-memory object store. All methods are safe for concurrent use, except that
// Close must not run concurrently with any other call.
type Memory struct {
	tab      *table // key -> object (table.go); written under mu, read without it
	maxBytes int64

	// fillMu orders Sets against hard purges and Close: Set holds it shared from its
	// purge-log check until it returns, a hard purge exclusively. (Table writes are now
	// made under mu, with the index; the lock was first needed when ristretto applied a
	// Set after the Set returned.)
	fillMu sync.RWMutex
	closed bool // guarded by fillMu

	// mu guards idx, log, pol and the table's writes.
	mu  sync.Mutex
	idx index
	log purgeLog
	pol *s3fifo // what Set evicts (policy.go); guarded by mu

	gen atomic.Uint64 // mirrors log.gen for a lock-free Begin
	// vary maps a URL to the request header names its responses vary on (see vary.go).
	// Written under mu, read without it on every lookup.
	vary    sync.Map // URL -> []string
	orphans orphanRing

	objects, bytes                             atomic.Int64 // mirror idx for lock-free Stats
	hits, misses, evictions, rejected, refused atomic.Uint64
	purged                                     [numKinds]atomic.Uint64
	metrics                                    *metrics

	onEvict func(*Object) // Config.OnEvict

	// afterIndex, when set by a test, runs in Set after its object is stored, before Set
	// returns and lets go of the fill lock.
	afterIndex func()
}

// NewMemory builds a store and registers its metrics on reg (nil: not registered).
func NewMemory(cfg Config, reg prometheus.Registerer) (*Memory, error) {
	cfg = cfg.withDefaults()
	m := &Memory{maxBytes: cfg.MaxBytes, idx: newIndex(), log: newPurgeLog(purgeLogSize),
		pol: newS3FIFO(cfg.MaxBytes), orphans: newOrphanRing(orphanCapacity(cfg.MaxBytes))}
	m.onEvict = cfg.OnEvict
	m.tab = newTable()
	var err error
	if m.metrics, err = newMetrics(m, cfg.Name, reg); err != nil {
		return nil, err
	}
	return m, nil
}

// Get returns the object stored under key. It takes no lock but its table shard's, shared.
func (m *Memory) Get(key string) (*Object, bool) {
	o := m.tab.get(key)
	if o == nil {
		m.misses.Add(1)
		return nil, false
	}
	m.hits.Add(1)
	o.touch() // the eviction policy's hit count: one atomic add, no lock
	return o, true
}

// Begin returns the current generation. The edge calls it when a fill starts and puts it in
// Object.Generation, so Set can tell whether a purge happened while the fill was running.
func (m *Memory) Begin() uint64 { return m.gen.Load() }

// Set stores o under o.Key, replacing what the key held. It returns false when refused: a
// hard purge newer than o.Generation matches o (by URL, prefix, tag or all), the purge log no
// longer reaches back to o.Generation, or o is larger than the budget. A soft purge newer
// than o.Generation that matches o stores it marked soft-purged.
//
// Set evicts, before it returns, what the budget needs to take o (policy.go), and hands them
// to Config.OnEvict. true does not promise a later Get finds o: the policy may have evicted
// o itself (an object near the budget's size), and any later Set may evict it. Never re-read
// the store to answer the request that filled it. o must not be changed after Set. Setting o
// again while this store holds it does nothing and returns true.
func (m *Memory) Set(o *Object) bool {
	if o == nil {
		return false
	}
	cost := o.Cost()
	if cost > m.maxBytes {
		m.rejected.Add(1)
		return false
	}
	m.fillMu.RLock()
	defer m.fillMu.RUnlock()
	if m.closed {
		return false
	}
	m.mu.Lock()
	switch m.log.judge(o) {
	case refuse:
		m.mu.Unlock()
		m.refused.Add(1)
		return false
	case markStale:
		o.softPurged.Store(true)
	}
	s := slot{obj: o}
	if !m.idx.add(s) {
		m.mu.Unlock() // o is already stored
		return true
	}
	if old := m.tab.put(o); old != nil {
		// A newer object of the key (or, rarely, of another key of the same hash): the old
		// one leaves as ristretto's replaced values did, neither evicted nor refused. The
		// table no longer holds it, so forgetting it deletes nothing there.
		m.forgetLocked(slot{obj: old}, keepVary)
	}
	m.pol.add(o)
	victims, self := m.evictLocked(o)
	m.syncCounts()
	m.mu.Unlock()
	m.evicted(victims)
	if self {
		// Its own victim (what was queued before it left or moved on and the bytes still
		// did not fit: an object near the budget's size): like a refusal by admission,
		// reported to OnEvict, and true: the fill did store it, for a moment.
		m.rejected.Add(1)
		if m.onEvict != nil {
			m.onEvict(o)
		}
		return true
	}
	if m.afterIndex != nil {
		m.afterIndex()
	}
	return true
}

// Del removes the object stored under key, if any.
func (m *Memory) Del(key string) {
	m.fillMu.RLock()
	defer m.fillMu.RUnlock()
	if m.closed {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if o := m.tab.get(key); o != nil {
		m.forgetLocked(slot{obj: o}, keepVary)
		m.syncCounts()
	}
}

// Stats returns the store's counters.
func (m *Memory) Stats() Stats {
	return Stats{
		Objects:   m.objects.Load(),
		Bytes:     m.bytes.Load(),
		Evictions: m.evictions.Load(),
		Hits:      m.hits.Load(),
		Misses:    m.misses.Load(),
		Rejected:  m.rejected.Load(),
		Refused:   m.refused.Load(),
	}
}

// MaxBytes is the store's budget in bytes of Object.Cost (Config.MaxBytes, or its default).
func (m *Memory) MaxBytes() int64 { return m.maxBytes }

// Close drops every object and unregisters the metrics. No call may run concurrently with
// Close or follow it, except Set, Del and purges, which then do nothing.
func (m *Memory) Close() {
	m.fillMu.Lock()
	defer m.fillMu.Unlock()
	if m.closed {
		return
	}
	m.closed = true
	m.mu.Lock()
	m.idx = newIndex()
	m.pol.clear()
	m.syncCounts()
	m.clearVaryLocked()
	m.tab.clear()
	m.mu.Unlock()
	m.metrics.unregister()
}

// forgetLocked removes s from the index and the table; when s was the last object of its
// URL, the URL's Vary record is dropped (a purge) or kept as an orphan (see vary.go). It
// reports whether s was indexed. Every object leaves the store here. The caller publishes
// the counts (syncCounts) once its whole change is made: a Set forgets the object it
// replaces and its victims after it indexed its own object, and Stats, read without the
// lock, showed the bytes in between, over the budget (by up to the object being Set).
func (m *Memory) forgetLocked(s slot, vary varyFate) bool {
	if !m.idx.remove(s) {
		return false
	}
	m.tab.del(s.obj)
	m.releaseVaryLocked(s.obj.URL, vary)
	return true
}

// syncCounts publishes the index totals; the caller holds mu.
func (m *Memory) syncCounts() {
	m.objects.Store(m.idx.objects)
	m.bytes.Store(m.idx.bytes)
}

// evictLocked removes from the index the objects the policy evicts until the queued bytes
// fit the budget again, and reports whether o, just added, was among them. The caller holds
// mu, then hands the victims to evicted.
//
// The queued bytes, not the indexed ones: an object a purge, Del or newer fill removed stays
// queued, and reachable, until the policy pops it, so a store that evicted only for its
// indexed bytes held its budget twice over after a purge of half of it and a refill
// (TestMemory_whatLeftTheStoreIsNotKeptBeyondTheBudget). Such objects cost nothing to evict:
// the policy skips them as it pops.
func (m *Memory) evictLocked(o *Object) (victims []*Object, self bool) {
	for m.pol.bytes() > m.maxBytes {
		v := m.pol.evict(m.indexedLocked)
		if v == nil {
			break
		}
		m.forgetLocked(slot{obj: v}, keepVary)
		if v == o {
			self = true
			continue
		}
		victims = append(victims, v)
	}
	return victims, self
}

// indexedLocked reports whether the index holds v: whether v is still stored. It asks the
// table, which holds exactly what the index holds while mu is held (table.holds). The
// caller holds mu.
func (m *Memory) indexedLocked(v *Object) bool { return m.tab.holds(v) }

// evicted counts the victims evictLocked already removed and hands them to Config.OnEvict.
// The caller does not hold mu.
func (m *Memory) evicted(victims []*Object) {
	for _, v := range victims {
		m.evictions.Add(1)
		if m.onEvict != nil {
			m.onEvict(v)
		}
	}
}
