package cachestore

import (
	"sync/atomic"
	"time"

	"github.com/shoal-cdn/shoal/httpcache"
)

// Meta is what the edge decided about an object when it stored it, kept beside the object so
// that a hit neither parses its head again nor looks anything up elsewhere. The store itself
// reads none of it; the disk tier persists Decision and Date with the object.
//
// Decision, Date and Hot are set before the object is stored and never changed after; the
// atomic marks and DiskGen change while readers share the object (see each field).
type Meta struct {
	// Decision is the storability decision of RFC 9111 section 3 and the freshness lifetime
	// of section 4.2.1, made once at fill time.
	Decision httpcache.StoreDecision
	// Date is the response's Date field parsed, in Unix seconds (HTTP dates have no finer
	// resolution; 8 bytes instead of a time.Time's 24 on every object). 0 means absent or
	// invalid: httpcache then parses the Header.
	Date int64
	// Revalidating marks an object whose background revalidation (RFC 5861
	// stale-while-revalidate) has started, so that it runs once however many requests read
	// the stale object.
	Revalidating atomic.Bool
	// DiskGen is the disk tier's generation when the object was stored in memory, passed
	// with it to disk so that a purge since then refuses it there. It is written only before
	// the object is shared, or by the one goroutine that won OnDisk.
	DiskGen uint64
	// OnDisk marks an object written to disk (or read from it), which eviction from memory
	// need not write again.
	OnDisk atomic.Bool
	// Hot marks a hot copy: an object a non-owner keeps for cache.hot_ttl only, which never
	// answers an owner's adoption request, or the owner would keep it for the original's
	// whole freshness.
	Hot bool
}

// NewMeta is the meta of an object about to be stored with header h and decision d.
func NewMeta(d httpcache.StoreDecision, h httpcache.Header) *Meta {
	m := &Meta{Decision: d}
	if t := httpcache.DateOf(h); !t.IsZero() {
		m.Date = t.Unix()
	}
	return m
}

// Response is o as httpcache evaluates it, with the Date parsed at fill time.
func (m *Meta) Response(o *Object) httpcache.Response {
	r := httpcache.Response{Status: o.Status, Header: o.Header, RequestTime: o.RequestTime, ResponseTime: o.ResponseTime}
	if m.Date != 0 {
		r.Date = time.Unix(m.Date, 0)
	}
	return r
}
