package cachestore

import (
	"slices"
	"sync/atomic"
	"time"

	"github.com/shoal-cdn/shoal/httpcache"
)

// Meta is what the edge decided about an object when it stored it, kept beside the object so
// that a hit neither parses its head again nor looks anything up elsewhere. The store itself
// reads none of it; the disk tier persists the decision and Date with the object.
//
// The decision, Date and Hot are set before the object is stored and never changed after;
// the atomic marks and DiskGen change while readers share the object (see each field).
//
// Every stored object has one, so it is packed into 48 bytes (one size class): the
// decision's field lists behind one pointer that is nil for nearly every response, no Reason
// (a decision to store has none), its three durations in 32 bits each (span) and its
// booleans in one byte. httpcache's StoreDecision is 96 bytes; a Meta holding it was 128,
// then 64 with 64-bit durations and a byte per boolean.
type Meta struct {
	// fields holds the decision's NoCacheFields and PrivateFields; nil when both are empty.
	fields *decisionFields
	// Date is the response's Date field parsed, in Unix seconds (HTTP dates have no finer
	// resolution; 8 bytes instead of a time.Time's 24 on every object). 0 means absent or
	// invalid: httpcache then parses the Header.
	Date int64
	// DiskGen is the disk tier's generation when the object was stored in memory, passed
	// with it to disk so that a purge since then refuses it there. It is written only before
	// the object is shared, or by the one goroutine that won OnDisk.
	DiskGen uint64
	// The decision's freshness lifetime, stale-while-revalidate and stale-if-error.
	lifetime, staleWhileRevalidate, staleIfError span
	// Revalidating marks an object whose background revalidation (RFC 5861
	// stale-while-revalidate) has started, so that it runs once however many requests read
	// the stale object.
	Revalidating atomic.Bool
	// OnDisk marks an object written to disk (or read from it), which eviction from memory
	// need not write again.
	OnDisk atomic.Bool
	// flags are the decision's booleans (metaStore...); a hit rebuilds the decision
	// (Decision) from them with plain copies.
	flags metaFlags
	// Hot marks a hot copy: an object a non-owner keeps for cache.hot_ttl only, which never
	// answers an owner's adoption request, or the owner would keep it for the original's
	// whole freshness.
	Hot bool
}

// metaFlags are a StoreDecision's booleans, a bit each.
type metaFlags uint8

const (
	metaStore metaFlags = 1 << iota
	metaHeuristic
	metaMustRevalidate
	metaNoCache
	metaImmutable
	metaNoTransform
)

func (f metaFlags) has(b metaFlags) bool { return f&b != 0 }

// flagIf is b when on holds, else 0.
func flagIf(on bool, b metaFlags) metaFlags {
	if on {
		return b
	}
	return 0
}

// span is a non-negative duration in 32 bits: whole milliseconds below 2^31 ms (24.8 days),
// whole seconds above, with the top bit set, up to 2^31-1 s (68 years, the most RFC 9111
// section 1.2.2 lets a cache cap a delta-seconds at: 2^31). HTTP's durations are whole seconds
// (max-age, s-maxage, stale-while-revalidate, stale-if-error; a heuristic lifetime is a
// tenth of a difference of two dates, in whole seconds, so a multiple of 100 ms); a
// configured TTL keeps its milliseconds. A negative duration (a lifetime that already ran
// out) is 0: stale either way, as freshness needs a lifetime above the age.
type span uint32

const spanSeconds span = 1 << 31

func spanOf(d time.Duration) span {
	switch {
	case d <= 0:
		return 0
	case d < time.Duration(spanSeconds)*time.Millisecond:
		return span(d / time.Millisecond)
	}
	return spanSeconds | span(min(d/time.Second, time.Duration(spanSeconds-1)))
}

func (s span) duration() time.Duration {
	if s&spanSeconds != 0 {
		return time.Duration(s&^spanSeconds) * time.Second
	}
	return time.Duration(s) * time.Millisecond
}

// decisionFields are the field lists of RFC 9111 sections 5.2.2.4 and 5.2.2.7.
type decisionFields struct{ noCache, private []string }

// NewMeta is the meta of an object about to be stored with header h and decision d. d's
// Reason is not kept: it is empty in a decision to store. Its durations keep whole
// milliseconds (whole seconds beyond 24 days, see span).
func NewMeta(d httpcache.StoreDecision, h httpcache.Header) *Meta {
	m := &Meta{lifetime: spanOf(d.Lifetime), staleWhileRevalidate: spanOf(d.StaleWhileRevalidate),
		staleIfError: spanOf(d.StaleIfError),
		flags: flagIf(d.Store, metaStore) | flagIf(d.Heuristic, metaHeuristic) |
			flagIf(d.MustRevalidate, metaMustRevalidate) | flagIf(d.NoCache, metaNoCache) |
			flagIf(d.Immutable, metaImmutable) | flagIf(d.NoTransform, metaNoTransform)}
	if len(d.NoCacheFields) > 0 || len(d.PrivateFields) > 0 {
		// Copied: the names are cut from the response's Cache-Control, whose text the
		// stored object does not otherwise keep (its header is packed).
		m.fields = &decisionFields{noCache: ownStrings(slices.Clone(d.NoCacheFields)), private: ownStrings(slices.Clone(d.PrivateFields))}
	}
	if t := httpcache.DateOf(h); !t.IsZero() {
		m.Date = t.Unix()
	}
	return m
}

// Decision is the storability decision of RFC 9111 section 3 and the freshness lifetime of
// section 4.2.1, made once at fill time (without its Reason). It allocates nothing.
func (m *Meta) Decision() httpcache.StoreDecision {
	d := httpcache.StoreDecision{
		Store:                m.flags.has(metaStore),
		Heuristic:            m.flags.has(metaHeuristic),
		MustRevalidate:       m.flags.has(metaMustRevalidate),
		NoCache:              m.flags.has(metaNoCache),
		Immutable:            m.flags.has(metaImmutable),
		NoTransform:          m.flags.has(metaNoTransform),
		Lifetime:             m.lifetime.duration(),
		StaleWhileRevalidate: m.staleWhileRevalidate.duration(),
		StaleIfError:         m.staleIfError.duration(),
	}
	if m.fields != nil {
		d.NoCacheFields, d.PrivateFields = m.fields.noCache, m.fields.private
	}
	return d
}

// Lifetime is the decision's freshness lifetime (RFC 9111 section 4.2.1).
func (m *Meta) Lifetime() time.Duration { return m.lifetime.duration() }

// NoCache reports the decision's no-cache: store, but validate before each use.
func (m *Meta) NoCache() bool { return m.flags.has(metaNoCache) }

// NoTransform reports the response's no-transform: its content must not be recompressed.
func (m *Meta) NoTransform() bool { return m.flags.has(metaNoTransform) }

// NoCacheFields are the fields no-cache="..." names: stripped when served without
// validation (RFC 9111 section 5.2.2.4).
func (m *Meta) NoCacheFields() []string {
	if m.fields == nil {
		return nil
	}
	return m.fields.noCache
}

// Response is o as httpcache evaluates it, with the Date parsed at fill time.
func (m *Meta) Response(o *Object) httpcache.Response {
	r := httpcache.Response{Status: int(o.Status), Packed: o.Header, RequestTime: o.RequestTime.Time(), ResponseTime: o.ResponseTime.Time()}
	if m.Date != 0 {
		r.Date = time.Unix(m.Date, 0)
	}
	return r
}
