package cachestore

import (
	"strings"
	"unsafe"

	"github.com/google/btree"
)

// slot is the URL index's entry: the object alone, 8 bytes. Objects are told apart by
// identity, so the index removes exactly the one that left (a newer object of the same key
// may already be indexed); within a URL the index orders them by address (the collector does
// not move heap objects).
type slot struct {
	obj *Object
}

// tagRef is one (tag, object) pair of the tag index.
type tagRef struct {
	tag string
	obj *Object
}

// addr orders entries of one URL or tag; a probe (urlProbe, a tagRef without object) sorts
// before every entry.
func addr(o *Object) uintptr {
	if o == nil || o.Meta == probeMeta {
		return 0
	}
	return uintptr(unsafe.Pointer(o))
}

// btreeDegree gives nodes of up to 63 items: shallow trees, little per-item overhead.
const btreeDegree = 32

// index holds every object the table holds, sorted by URL and by tag, so a purge visits only
// what it matches. Its entries are 8 B (URL) and 24 B (tag) per object; there is no map per
// object or per tag. Not safe for concurrent use; Memory guards it with its index mutex.
type index struct {
	byURL   *btree.BTreeG[slot]
	byTag   *btree.BTreeG[tagRef]
	objects int64
	bytes   int64
}

func newIndex() index {
	return index{
		byURL: btree.NewG(btreeDegree, func(a, b slot) bool {
			if c := strings.Compare(a.obj.URL, b.obj.URL); c != 0 {
				return c < 0
			}
			return addr(a.obj) < addr(b.obj)
		}),
		byTag: btree.NewG(btreeDegree, func(a, b tagRef) bool {
			if c := strings.Compare(a.tag, b.tag); c != 0 {
				return c < 0
			}
			return addr(a.obj) < addr(b.obj)
		}),
	}
}

// add indexes s; it reports false if s was already indexed.
func (x *index) add(s slot) bool {
	if _, dup := x.byURL.ReplaceOrInsert(s); dup {
		return false
	}
	for _, t := range s.obj.Tags.List() {
		x.byTag.ReplaceOrInsert(tagRef{tag: t, obj: s.obj})
	}
	x.objects++
	x.bytes += s.obj.Cost()
	return true
}

// remove forgets s; it reports false if s was not indexed (already removed by a purge, a
// Del, a newer object of its key, or an eviction).
func (x *index) remove(s slot) bool {
	if _, ok := x.byURL.Delete(s); !ok {
		return false
	}
	for _, t := range s.obj.Tags.List() {
		x.byTag.Delete(tagRef{tag: t, obj: s.obj})
	}
	x.objects--
	x.bytes -= s.obj.Cost()
	return true
}

// hasURL reports whether any object of url is indexed.
func (x *index) hasURL(url string) bool {
	found := false
	x.byURL.AscendGreaterOrEqual(urlProbe(url), func(s slot) bool {
		found = s.obj.URL == url
		return false
	})
	return found
}

// each calls fn for every indexed slot that r matches. fn must not change the index.
func (x *index) each(r purgeRecord, fn func(slot)) {
	switch r.kind {
	case kindURL:
		x.byURL.AscendGreaterOrEqual(urlProbe(r.value), func(s slot) bool {
			if s.obj.URL != r.value {
				return false
			}
			fn(s)
			return true
		})
	case kindPrefix:
		x.byURL.AscendGreaterOrEqual(urlProbe(r.value), func(s slot) bool {
			if !strings.HasPrefix(s.obj.URL, r.value) {
				return false
			}
			fn(s)
			return true
		})
	case kindTag:
		x.byTag.AscendGreaterOrEqual(tagRef{tag: r.value}, func(t tagRef) bool {
			if t.tag != r.value {
				return false
			}
			fn(slot{obj: t.obj})
			return true
		})
	default:
		x.byURL.Ascend(func(s slot) bool {
			fn(s)
			return true
		})
	}
}

// urlProbe sorts before every slot of url.
func urlProbe(url string) slot { return slot{obj: &Object{URL: url, Meta: probeMeta}} }

// probeMeta marks a search key of the URL index (urlProbe), never stored: a flag in Object
// would take a word of every stored object.
var probeMeta = new(Meta)
