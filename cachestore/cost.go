package cachestore

import (
	"math/bits"
	"unsafe"
)

// Cost is the bytes o is charged against Config.MaxBytes: the heap it holds, as the Go
// runtime allocates it (each allocation rounded up to its size class), plus what the store
// spends to hold one object. Charging the heap and not only the payload keeps a full store's
// live heap at Config.MaxBytes; for an object of the edge's shape (a 1 KiB body, 8 header
// fields packed and compacted, Key = URL, a Meta) a full store's heap is 0.99 of its charged bytes
// (BenchmarkMemory_HeapPerEdgeObject/full): the charge errs on the safe side.
//
// What is shared is charged once: Key and URL when URL is the start of Key's bytes (the
// edge's keys are the URL itself, or the URL followed by the variant's secondary key), and
// the one allocation Compact made of Key, URL and Header. The
// body is charged by its capacity: bytes a body keeps beyond its length are heap too.
func (o *Object) Cost() int64 {
	var n int
	if o.packed != 0 {
		n = allocSize(int(o.packed)) + allocSize(cap(o.Body))
	} else {
		n = allocSize(cap(o.Body))
		n += allocSize(len(o.Header))
		n += allocSize(len(o.Key))
		if !sharesBytes(o.Key, o.URL) {
			n += allocSize(len(o.URL))
		}
	}
	n += o.Tags.cost()
	if m := o.Meta; m != nil {
		n += metaSize
		if f := m.fields; f != nil {
			n += allocSize(int(unsafe.Sizeof(*f))) + fieldsCost(f.noCache) + fieldsCost(f.private)
		}
	}
	return int64(n) + objectOverhead
}

const (
	// metaSize is a Meta, rounded to its size class (48 B).
	metaSize = (int(unsafe.Sizeof(Meta{})) + 15) &^ 15
	// objectOverhead is the Object struct (128 B with its size class) plus what the store
	// holds per object beside it: its entry in the table (table.go: 16 B in a Go map, 24 B
	// with the map's spare slots as measured, up to about 40 B just after the map doubled),
	// its queue slot and share of the ghost table in the eviction policy, and its entry in
	// the URL index. BenchmarkMemory_HeapPerEdgeObject measures the table at 24 B, the
	// policy at 14 B and the index at 18 B per object on a fresh store, and 7 B more in a
	// store that evicts (half-empty B-tree nodes, deleted map slots); the charge takes the
	// map's worst case.
	objectOverhead = (int64(unsafe.Sizeof(Object{}))+15)&^15 + 80
	// tagOverhead is a tag's string header in Object.Tags plus its entry in the tag index.
	tagOverhead = 64
)

// allocSize is the size class the runtime rounds an allocation of n bytes up to, as its
// spacing goes: 8 and 16 B, then steps of an eighth of the power of two below n (16 B at
// least), and whole 8 KiB pages above 32 KiB. It may differ from the runtime's class by one
// step in either direction; it never charges a large body more than a page beyond its size.
func allocSize(n int) int {
	switch {
	case n <= 0:
		return 0
	case n <= 16:
		return (n + 7) &^ 7
	case n > 32<<10:
		return (n + 8<<10 - 1) &^ (8<<10 - 1)
	}
	step := max(16, 1<<(bits.Len(uint(n-1))-1)/8)
	return (n + step - 1) &^ (step - 1)
}

// sharesBytes reports whether b is the start of a's bytes, one allocation charged once.
func sharesBytes(a, b string) bool {
	return len(b) > 0 && len(b) <= len(a) && unsafe.StringData(a) == unsafe.StringData(b)
}

// fieldsCost is a list of field names: its slice and its strings.
func fieldsCost(names []string) int {
	if len(names) == 0 {
		return 0
	}
	n := allocSize(cap(names) * int(unsafe.Sizeof("")))
	for _, s := range names {
		n += allocSize(len(s))
	}
	return n
}
