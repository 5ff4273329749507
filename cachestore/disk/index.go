package disk

import (
	"strings"

	"github.com/google/btree"
)

// objIndex is what is served: one entry per key, plus the orders that bans search so that a
// purge costs what it matches, not what is stored. Keys are kept sorted (a B-tree): the edge's
// key starts with its URL, so a URL ban and a prefix ban are range scans. Entries whose URL is
// not a prefix of their key (none in the edge's key shape) sit in a side set every URL and
// prefix ban also checks. Tags map to their entries. Guarded by Disk.mu.
type objIndex struct {
	byKey  map[string]*entry
	sorted *btree.BTreeG[*entry]
	byTag  map[string]map[*entry]struct{}
	odd    map[*entry]struct{}
}

func newObjIndex() *objIndex {
	return &objIndex{
		byKey:  make(map[string]*entry),
		sorted: btree.NewG(32, func(a, b *entry) bool { return a.key < b.key }),
		byTag:  make(map[string]map[*entry]struct{}),
		odd:    make(map[*entry]struct{}),
	}
}

func (x *objIndex) get(key string) *entry { return x.byKey[key] }

func (x *objIndex) len() int { return len(x.byKey) }

// put makes e what its key serves and reports whether the key is new.
func (x *objIndex) put(e *entry) (added bool) {
	old := x.byKey[e.key]
	if old != nil {
		x.unlinkSecondary(old)
	}
	x.byKey[e.key] = e
	x.sorted.ReplaceOrInsert(e)
	for _, t := range e.tags {
		s := x.byTag[t]
		if s == nil {
			s = make(map[*entry]struct{})
			x.byTag[t] = s
		}
		s[e] = struct{}{}
	}
	if !strings.HasPrefix(e.key, e.url()) {
		x.odd[e] = struct{}{}
	}
	return old == nil
}

// remove drops e if it is still what its key serves, and reports whether it was.
func (x *objIndex) remove(e *entry) bool {
	if x.byKey[e.key] != e {
		return false
	}
	delete(x.byKey, e.key)
	x.sorted.Delete(e)
	x.unlinkSecondary(e)
	return true
}

func (x *objIndex) unlinkSecondary(e *entry) {
	for _, t := range e.tags {
		if s := x.byTag[t]; s != nil {
			delete(s, e)
			if len(s) == 0 {
				delete(x.byTag, t)
			}
		}
	}
	delete(x.odd, e)
}

// candidates calls fn on every entry b may match (a superset; b.matches decides).
func (x *objIndex) candidates(b *Ban, fn func(*entry)) {
	switch b.Kind {
	case BanKey:
		if e := x.byKey[b.Value]; e != nil {
			fn(e)
		}
	case BanURL, BanPrefix:
		x.sorted.AscendGreaterOrEqual(&entry{key: b.Value}, func(e *entry) bool {
			if !strings.HasPrefix(e.key, b.Value) {
				return false
			}
			fn(e)
			return true
		})
		for e := range x.odd {
			fn(e)
		}
	case BanTag:
		for e := range x.byTag[b.Value] {
			fn(e)
		}
	case BanAll:
		for _, e := range x.byKey {
			fn(e)
		}
	}
}

// withPrefix returns up to limit keys that start with prefix, in key order.
func (x *objIndex) withPrefix(prefix string, limit int) []string {
	var keys []string
	x.sorted.AscendGreaterOrEqual(&entry{key: prefix}, func(e *entry) bool {
		if !strings.HasPrefix(e.key, prefix) || len(keys) == limit {
			return false
		}
		keys = append(keys, e.key)
		return true
	})
	return keys
}
