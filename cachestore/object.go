package cachestore

import (
	"sync/atomic"

	"github.com/shoal-cdn/shoal/httpcache"
)

// Object is one stored response. It is immutable once Set: readers share it without locks; a
// change (a 304 freshening) stores a new Object. Only the soft-purge mark changes, atomically.
//
// One Object may be Set into several Memory stores (a main and a hot tier); each store indexes
// it on its own, and a soft purge in either marks the shared Object.
type Object struct {
	Key          string                 // full cache key: primary key plus the variant's secondary key
	URL          string                 // primary key, "scheme://host/path?normalised-query": what URL and prefix purges match
	Header       httpcache.PackedHeader // stored response header fields, names as the origin sent them (httpcache.Pack)
	Body         []byte                 // response body
	RequestTime  Stamp                  // when the request that filled it left for the origin
	ResponseTime Stamp                  // when its response arrived
	Tags         Tags                   // surrogate keys (from Surrogate-Key / Cache-Tag), indexed for purge
	Generation   uint64                 // the store generation read when the fill started (see Memory.Begin)
	Meta         *Meta                  // the edge's decisions about it (meta.go); nil only in tests of the store alone
	Status       int32                  // response status code

	// softPurged shares a word with Status, freq and packed take the struct's last free
	// word: every stored object has this struct, and 128 bytes is its size class
	// (TestObject_oneSizeClass).
	softPurged atomic.Bool
	// freq counts hits since the eviction policy last looked at the object (policy.go), up
	// to maxFreq. An Object Set into two stores shares it; each store then sees the other's
	// hits too.
	freq atomic.Uint32
	// packed is the length of the allocation Compact moved Key, URL and Header into
	// (compact.go); 0 when not compacted. Cost charges it in place of those fields.
	packed uint32
}

// SoftPurged reports whether a soft purge marked the object stale: serve it only while
// revalidating.
func (o *Object) SoftPurged() bool { return o.softPurged.Load() }
