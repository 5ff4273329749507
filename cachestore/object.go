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

	// softPurged sits in the struct's alignment padding, so the mark costs no memory.
	softPurged atomic.Bool
}

// SoftPurged reports whether a soft purge marked the object stale: serve it only while
// revalidating.
func (o *Object) SoftPurged() bool { return o.softPurged.Load() }

// Cost is the bytes the object is charged against Config.MaxBytes: body, header lines, key,
// URL and tags, plus what the store spends to hold one object. The parts beyond body and
// Header.Size are charged so that the budget tracks heap, not only payload.
func (o *Object) Cost() int64 {
	n := len(o.Body) + o.Header.Size() + len(o.Header)*fieldOverhead
	n += len(o.Key) + len(o.URL)
	for _, t := range o.Tags {
		n += len(t) + tagOverhead
	}
	return int64(n) + objectOverhead
}

const (
	// objectOverhead is the heap one stored object costs beyond its strings and body:
	// the Object struct (192 B), its slot in ristretto's store and policy maps, its
	// entry in the URL index, its share of the admission sketch. BenchmarkMemory_HeapPerObject
	// measures about 440 B above a 1 KiB body, of which 64 B are the key and one header line;
	// under eviction churn ristretto's maps carry tombstones and hold some 60 B more.
	objectOverhead = 400
	// fieldOverhead is a header line's Field (two string headers, 32 B) less the 4 bytes
	// Header.Size already charges for it.
	fieldOverhead = 28
	// tagOverhead is a tag's string header in Object.Tags plus its entry in the tag index.
	tagOverhead = 64
)
