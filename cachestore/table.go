package cachestore

import (
	"hash/maphash"
	"sync"
)

// tableShards splits the table so that a Set (one writer, under the store's index mutex)
// blocks the Gets of one shard only, and Gets on two cores rarely share a lock's cache line.
const tableShards = 64

// table maps a key's hash to the object stored under the key: the store's lookup, in place of
// ristretto's map. Each entry is a 64-bit hash and one pointer, 16 B in a Go map (about 27 B
// per object with the map's spare slots) where ristretto spent 111 B (its store item, its
// policy's cost map, its admission sketch). A Get hashes the key once and compares the
// object's Key, so two keys of one hash never answer for each other; a Set of the second
// replaces the first, which the cache may forget as it may forget anything.
//
// Writes are made under the store's index mutex (Memory.mu), so the table always holds
// exactly what the index holds; each shard's lock only orders them against Gets.
type table struct {
	seed   maphash.Seed
	shards [tableShards]tableShard
}

type tableShard struct {
	mu sync.RWMutex
	m  map[uint64]*Object
	_  [64 - 8 - 24]byte // a cache line per shard: Gets of two shards share no lock line
}

func newTable() *table {
	t := &table{seed: maphash.MakeSeed()}
	for i := range t.shards {
		t.shards[i].m = make(map[uint64]*Object)
	}
	return t
}

func (t *table) shard(h uint64) *tableShard { return &t.shards[h%tableShards] }

// get returns the object stored under key, or nil. It allocates nothing.
func (t *table) get(key string) *Object {
	h := maphash.String(t.seed, key)
	s := t.shard(h)
	s.mu.RLock()
	o := s.m[h]
	s.mu.RUnlock()
	if o == nil || o.Key != key {
		return nil
	}
	return o
}

// put stores o and returns the object it replaced (its key's, or rarely another key's of the
// same hash), or nil.
func (t *table) put(o *Object) (old *Object) {
	h := maphash.String(t.seed, o.Key)
	s := t.shard(h)
	s.mu.Lock()
	old = s.m[h]
	s.m[h] = o
	s.mu.Unlock()
	return old
}

// del removes o if the table holds it (not another object of its key).
func (t *table) del(o *Object) {
	h := maphash.String(t.seed, o.Key)
	s := t.shard(h)
	s.mu.Lock()
	if s.m[h] == o {
		delete(s.m, h)
	}
	s.mu.Unlock()
}

// holds reports whether the table holds o itself, not another object of its key. Memory
// adds and removes every object in the table and the URL index together under its index
// mutex, so there this is whether o is stored, as the index would say: one hash and one map
// probe where the index descends a B-tree comparing URLs, each compare a pointer chase into
// another object (eviction asks it for every object it pops).
func (t *table) holds(o *Object) bool {
	h := maphash.String(t.seed, o.Key)
	s := t.shard(h)
	s.mu.RLock()
	held := s.m[h] == o
	s.mu.RUnlock()
	return held
}

// clear removes every object.
func (t *table) clear() {
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		s.m = make(map[uint64]*Object)
		s.mu.Unlock()
	}
}

// each calls fn for every stored object, a shard at a time; fn must not write the table.
func (t *table) each(fn func(*Object)) {
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.RLock()
		for _, o := range s.m {
			fn(o)
		}
		s.mu.RUnlock()
	}
}
