package cachestore

// A URL's Vary record is the list of request header names its responses vary on (RFC 9111
// section 4.1). The edge reads it before a lookup to build the variant's key; without it the
// lookup uses the primary key, finds nothing and fills.
//
// The record must outlive a refused variant. When the admission policy refused a new variant
// (a full store) and the record went with it, every later lookup of the URL went to the
// primary key: ristretto counted the primary key's accesses, never the variant's, so on a
// full store no variant of the URL was ever admitted again, and each request joined the fill
// of whichever variant was in flight (issue 18). The same happened when the URL's last
// variant left between the fill's SetVary and its Set. So a record lives while an object of
// its URL is indexed, and after that as one of the last orphanCapacity orphans; only a purge
// that removes the URL's last object drops it at once (the next fill learns the names again).
//
// Only SetVary writes records, with the names of the origin's Vary. Set does not read them
// from the object: a compressed variant's Vary also names Accept-Encoding, which selects the
// encoding, not the stored object.

// varyFate is what happens to a URL's Vary record when its last indexed object leaves.
type varyFate uint8

const (
	dropVary varyFate = iota // a purge removed the URL: forget the names
	keepVary                 // evicted, refused, replaced or deleted: keep them as an orphan
)

// SetVary records the request header names url varies on (the origin's Vary, as
// httpcache.VaryNames gives them), so a lookup can build the secondary key. The fill calls it
// before Set. names must not be changed afterwards.
func (m *Memory) SetVary(url string, names []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.vary.Store(url, names)
	if !m.idx.hasURL(url) {
		m.orphans.push(url, m.dropOrphanLocked)
	}
}

// Vary returns the names recorded for url. It takes no lock. The slice is shared: do not
// change it.
func (m *Memory) Vary(url string) ([]string, bool) {
	v, ok := m.vary.Load(url)
	if !ok {
		return nil, false
	}
	return v.([]string), true
}

// releaseVaryLocked runs after an object of url left the index; the caller holds mu.
func (m *Memory) releaseVaryLocked(url string, fate varyFate) {
	if _, ok := m.vary.Load(url); !ok || m.idx.hasURL(url) {
		return
	}
	if fate == keepVary {
		m.orphans.push(url, m.dropOrphanLocked)
		return
	}
	m.vary.Delete(url)
}

// dropOrphanLocked forgets the record of an orphan pushed out of the ring, unless an object of
// its URL was stored since.
func (m *Memory) dropOrphanLocked(url string) {
	if !m.idx.hasURL(url) {
		m.vary.Delete(url)
	}
}

// clearVaryLocked forgets every record; the caller holds mu.
func (m *Memory) clearVaryLocked() {
	m.vary.Clear()
	m.orphans.reset()
}

// orphanCapacity bounds the records kept without objects: one per 64 KiB of budget, at least
// 256 and at most 65,536. A record costs some 200 B of heap beyond the budget (map entry, URL,
// names), so at most 0.3% of MaxBytes.
func orphanCapacity(maxBytes int64) int {
	return int(min(max(maxBytes>>16, 256), 65536))
}

// orphanRing remembers the URLs of the most recent orphan records, oldest first. A URL may
// appear twice; dropping its older entry then only costs a lookup that relearns the names.
// Not safe for concurrent use; Memory guards it with mu.
//
// The ring grows as orphans come, up to its capacity: made at its capacity, it was heap sized
// by the budget (1 MiB from a 4 GiB cache) held from the start, which a store with few Vary
// URLs never fills.
type orphanRing struct {
	urls     []string
	capacity int
	next     int // where the next push goes once urls is full
}

func newOrphanRing(capacity int) orphanRing {
	return orphanRing{capacity: capacity}
}

// push adds url; when the ring is full the oldest URL is passed to evict.
func (r *orphanRing) push(url string, evict func(string)) {
	if len(r.urls) < r.capacity {
		r.urls = append(r.urls, url)
		return
	}
	evict(r.urls[r.next])
	r.urls[r.next] = url
	r.next = (r.next + 1) % len(r.urls)
}

func (r *orphanRing) reset() {
	clear(r.urls)
	r.urls, r.next = r.urls[:0], 0
}
