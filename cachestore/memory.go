package cachestore

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/dgraph-io/ristretto/v2"
	"github.com/prometheus/client_golang/prometheus"
)

// Stats is a snapshot of a store's counters.
type Stats struct {
	Objects   int64  // objects held (including Sets ristretto has queued but not yet applied)
	Bytes     int64  // sum of their Cost
	Evictions uint64 // objects the eviction policy (policy.go) evicted to make room
	Hits      uint64
	Misses    uint64
	Rejected  uint64 // Sets ristretto dropped (its queue full) or refused (a key Set twice before either was applied), or that the policy evicted at once
	Refused   uint64 // Sets refused because a purge newer than their fill matched them
}

// Memory is the in-memory object store. All methods are safe for concurrent use, except that
// Close must not run concurrently with any other call (ristretto's own contract).
type Memory struct {
	cache    *ristretto.Cache[string, slot]
	maxBytes int64

	// fillMu orders Sets against hard purges. Set holds it shared from its purge-log check
	// until ristretto has the object; a hard purge holds it exclusively from finding its
	// matches until their Dels are queued. Without it, a Set that indexed its object just
	// before a purge but handed it to ristretto just after the purge's Del would leave a
	// purged object stored and unindexed, out of reach of every later purge.
	fillMu sync.RWMutex
	closed bool // guarded by fillMu

	// mu guards idx and log. ristretto's callbacks take it from ristretto's goroutine
	// (and from inside Set, Del and Clear), so no code calls into ristretto while holding it.
	mu  sync.Mutex
	idx index
	log purgeLog
	pol *s3fifo // what Set evicts (policy.go); guarded by mu

	// admitMu orders what Set hands to ristretto (the Dels of its victims, then its object)
	// against other Sets and Dels: a victim's Del that reached ristretto after a newer
	// object of the same key would delete that one.
	admitMu sync.Mutex

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

	// afterIndex, when set by a test, runs in Set between indexing an object and handing it
	// to ristretto: the window the fill lock protects.
	afterIndex func()
}

// NewMemory builds a store and registers its metrics on reg (nil: not registered).
func NewMemory(cfg Config, reg prometheus.Registerer) (*Memory, error) {
	cfg = cfg.withDefaults()
	m := &Memory{maxBytes: cfg.MaxBytes, idx: newIndex(), log: newPurgeLog(purgeLogSize),
		pol: newS3FIFO(cfg.MaxBytes), orphans: newOrphanRing(orphanCapacity(cfg.MaxBytes))}
	m.onEvict = cfg.OnEvict
	cache, err := ristretto.NewCache(&ristretto.Config[string, slot]{
		NumCounters:        sketchCounters,
		MaxCost:            unbounded,
		BufferItems:        bufferItems,
		IgnoreInternalCost: true, // Object.Cost already charges the store's own overhead
		// ristretto calls these from its goroutine, and OnExit also from inside Set, Del and
		// Clear; each value that entered ristretto leaves through exactly one of them (an
		// eviction or rejection calls OnEvict/OnReject and then OnExit), which keeps the index
		// equal to what ristretto holds. With an unbounded budget ristretto evicts nothing;
		// it rejects a Set only when its key was Set twice before either was applied.
		OnEvict: func(it *ristretto.Item[slot]) {
			if m.forget(it.Value, keepVary) {
				m.evictions.Add(1)
				if m.onEvict != nil {
					m.onEvict(it.Value.obj)
				}
			}
		},
		OnReject: func(it *ristretto.Item[slot]) {
			if m.forget(it.Value, keepVary) {
				m.rejected.Add(1)
				if m.onEvict != nil {
					m.onEvict(it.Value.obj)
				}
			}
		},
		OnExit: func(s slot) { m.forget(s, keepVary) },
	})
	if err != nil {
		return nil, fmt.Errorf("cachestore: %w", err)
	}
	m.cache = cache
	if m.metrics, err = newMetrics(m, cfg.Name, reg); err != nil {
		cache.Close()
		return nil, err
	}
	return m, nil
}

// Get returns the object stored under key. It takes no lock of the store's own.
func (m *Memory) Get(key string) (*Object, bool) {
	s, ok := m.cache.Get(key)
	if !ok || s.obj == nil {
		m.misses.Add(1)
		return nil, false
	}
	m.hits.Add(1)
	s.obj.touch() // the eviction policy's hit count: one atomic add, no lock
	return s.obj, true
}

// Begin returns the current generation. The edge calls it when a fill starts and puts it in
// Object.Generation, so Set can tell whether a purge happened while the fill was running.
func (m *Memory) Begin() uint64 { return m.gen.Load() }

// Set stores o under o.Key. It returns false when refused: a hard purge newer than
// o.Generation matches o (by URL, prefix, tag or all), the purge log no longer reaches back to
// o.Generation, o is larger than the budget, or ristretto dropped the Set. A soft purge newer
// than o.Generation that matches o stores it marked soft-purged.
//
// Set evicts, before it returns, what the budget needs to take o (policy.go), and hands them
// to Config.OnEvict. true does not promise a later Get finds o: ristretto applies Sets
// asynchronously and may still refuse it. Never re-read the store to answer the request that
// filled it. o must not be changed after Set. Setting o again while this store holds it (or
// has it queued) does nothing and returns true.
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
	m.admitMu.Lock()
	defer m.admitMu.Unlock()

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
	// Indexed before ristretto sees it, so its exit callback, which may come at once, finds it.
	if !m.idx.add(s) {
		// o is already stored or queued. Setting it again would make ristretto report the
		// exit of the value it replaces, which is o itself, and the index would forget an
		// object ristretto holds.
		m.mu.Unlock()
		return true
	}
	m.pol.add(o)
	victims, self := m.evictLocked(o)
	m.syncCounts()
	m.mu.Unlock()
	m.evicted(victims)
	if self {
		// Its own victim (what was queued before it left or moved on and the bytes still
		// did not fit: an object near the budget's size): like a refusal by admission,
		// reported to OnEvict, and true as for a Set ristretto takes and then refuses.
		m.rejected.Add(1)
		if m.onEvict != nil {
			m.onEvict(o)
		}
		return true
	}
	if m.afterIndex != nil {
		m.afterIndex()
	}

	if !m.cache.Set(o.Key, s, cost) {
		m.forget(s, keepVary) // dropped: ristretto reports no exit for it
		m.rejected.Add(1)
		return false
	}
	return true
}

// Del removes the object stored under key, if any.
func (m *Memory) Del(key string) {
	m.fillMu.RLock()
	defer m.fillMu.RUnlock()
	if !m.closed {
		m.cache.Del(key) // its OnExit removes the object from the index
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

// Wait blocks until ristretto has applied every queued Set and Del. For tests only.
func (m *Memory) Wait() { m.cache.Wait() }

// Close drops every object, stops ristretto's goroutines and unregisters the metrics. No call
// may run concurrently with Close or follow it, except Set, Del and purges, which then do
// nothing.
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
	m.mu.Unlock()
	m.cache.Close()
	m.metrics.unregister()
}

// forget removes s from the index after ristretto let go of it (see forgetLocked). It
// reports whether s was indexed.
func (m *Memory) forget(s slot, vary varyFate) bool {
	if s.obj == nil {
		return false // ristretto reports deletes of absent keys with a zero value
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.forgetLocked(s, vary)
}

// forgetLocked removes s from the index; when s was the last object of its URL, the URL's
// Vary record is dropped (a purge) or kept as an orphan (see vary.go). It reports whether s
// was indexed.
func (m *Memory) forgetLocked(s slot, vary varyFate) bool {
	if !m.idx.remove(s) {
		return false
	}
	m.syncCounts()
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

// indexedLocked reports whether the index holds v: whether v is still stored. The caller
// holds mu.
func (m *Memory) indexedLocked(v *Object) bool { return m.idx.byURL.Has(slot{obj: v}) }

// evicted deletes the victims from ristretto (their OnExit finds them already forgotten)
// and hands them to Config.OnEvict. The caller holds admitMu, not mu.
func (m *Memory) evicted(victims []*Object) {
	for _, v := range victims {
		m.cache.Del(v.Key)
		m.evictions.Add(1)
		if m.onEvict != nil {
			m.onEvict(v)
		}
	}
}
