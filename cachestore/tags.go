package cachestore

import (
	"slices"
	"unsafe"
)

// Tags are an object's surrogate keys (from Surrogate-Key / Cache-Tag), which tag purges
// match. They sit behind one pointer: nearly every object has none, and a slice in Object
// would cost every stored object 24 bytes where the pointer costs 8. The zero value is no
// tags. Like the Object that holds them, they are not changed once made.
type Tags struct{ list *[]string }

// NewTags holds keys, copied into one string: a key cut from the response's header (Surrogate-Key,
// Cache-Tag) would otherwise keep that header's whole text alive, uncharged, while the object
// stores its fields packed (httpcache.PackedHeader). keys is not changed: callers pass lists
// others read at the same time (a disk record's tags, shared by every hit on it). No keys is
// the zero Tags.
func NewTags(keys ...string) Tags {
	if len(keys) == 0 {
		return Tags{}
	}
	list := ownStrings(slices.Clone(keys))
	return Tags{list: &list}
}

// ownStrings copies the bytes of every string in list into one new allocation and points
// list's strings at it, so that what the strings were cut from is not kept alive by them.
// It returns list, changed in place.
func ownStrings(list []string) []string {
	n := 0
	for _, s := range list {
		n += len(s)
	}
	if n == 0 {
		return list
	}
	all := make([]byte, 0, n)
	for _, s := range list {
		all = append(all, s...)
	}
	text := unsafe.String(unsafe.SliceData(all), n) // all is not changed after this
	at := 0
	for i, s := range list {
		list[i] = text[at : at+len(s)]
		at += len(s)
	}
	return list
}

// List is the keys, nil when there are none. The caller must not change it.
func (t Tags) List() []string {
	if t.list == nil {
		return nil
	}
	return *t.list
}

// cost is the heap the tags hold beyond Object's pointer: the slice header, its array, and
// per key tagOverhead (its string header and its entry in the tag index) and its bytes.
func (t Tags) cost() int {
	if t.list == nil {
		return 0
	}
	n := allocSize(int(unsafe.Sizeof(*t.list)))
	for _, k := range *t.list {
		n += len(k) + tagOverhead
	}
	return n
}
