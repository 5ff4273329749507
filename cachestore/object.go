package cachestore

import (
	"sync/atomic"
	"time"

	"github.com/shoal-cdn/shoal/httpcache"
)

// Object is one stored response. It is immutable once Set: readers share it without locks; a
// change (a 304 freshening) stores a new Object. Only the soft-purge mark changes, atomically.
//
// One Object may be Set into several Memory stores (a main and a hot tier); each store indexes
// it on its own, and a soft purge in either marks the shared Object.
type Object struct {
	Key          string           // full cache key: primary key plus the variant's secondary key
	URL          string           // primary key, "scheme://host/path?normalised-query": what URL and prefix purges match
	Status       int              // response status code
	Header       httpcache.Header // stored response header fields, names as the origin sent them
	Body         []byte           // response body
	RequestTime  time.Time        // when the request that filled it left for the origin
	ResponseTime time.Time        // when its response arrived
	Tags         []string         // surrogate keys (from Surrogate-Key / Cache-Tag), indexed for purge
	Generation   uint64           // the store generation read when the fill started (see Memory.Begin)
	Meta         *Meta            // the edge's decisions about it (meta.go); nil only in tests of the store alone

	// softPurged and probe sit in the struct's alignment padding, so they cost no memory.
	softPurged atomic.Bool
	probe      bool // a search key of the URL index (urlProbe), never stored
}

// SoftPurged reports whether a soft purge marked the object stale: serve it only while
// revalidating.
func (o *Object) SoftPurged() bool { return o.softPurged.Load() }
