package cachestore

import "unsafe"

// Tags are an object's surrogate keys (from Surrogate-Key / Cache-Tag), which tag purges
// match. They sit behind one pointer: nearly every object has none, and a slice in Object
// would cost every stored object 24 bytes where the pointer costs 8. The zero value is no
// tags. Like the Object that holds them, they are not changed once made.
type Tags struct{ list *[]string }

// NewTags holds keys (not copied); no keys is the zero Tags.
func NewTags(keys ...string) Tags {
	if len(keys) == 0 {
		return Tags{}
	}
	list := keys // only a non-empty list moves to the heap
	return Tags{list: &list}
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
