package edge

import (
	"sync/atomic"
	"weak"

	"github.com/shoal-cdn/shoal/cachestore"
	"github.com/shoal-cdn/shoal/cachestore/disk"
)

// A disk hit too large to copy back into memory used to decode its record's head on every
// request: a pread(2) of the head, a string per field, the storing decision parsed again
// (Cache-Control, Date), a new Meta, and so a head written field by field, as no hit
// template (hithead.go) could be found for a Meta seen once. That was about half of the
// node's own CPU per 256 KiB disk hit (BenchmarkNode_diskHit). So the decoded object is kept
// by record (disk.RecordID: a record is never rewritten in place, so what its head decodes
// to does not change), and a hit on a kept record reads no head, decodes nothing, and finds
// its head's template by the kept Meta, as a memory hit does.
//
// The table is direct-mapped and small (diskMetaSlots objects of a few hundred bytes, no
// bodies): a record whose slot another takes is decoded again on its next hit. Entries are
// never changed once stored; readers share them. An entry holds the settings it was decided
// under weakly, so a reload's new policy decides again and the old settings are not kept.

// diskMetaSlots is the table's size. diskMetaMaxHead bounds the head of a kept decoding
// (names and values, bytes): the table lives outside the store's budget, and 4096 heads of
// 16 KiB would be some 77 MB of it, more than the memory policy's reserve (cmd/shoal's
// memory.go). A larger head is decoded on every hit, as before the table.
const (
	diskMetaBits    = 12
	diskMetaSlots   = 1 << diskMetaBits
	diskMetaMaxHead = 2 << 10
)

type diskMetas struct {
	slots [diskMetaSlots]atomic.Pointer[diskMeta]
}

// diskMeta is one record's decoded object: Status, Header, times, Tags and Meta, Body nil
// (disk-bodied). Read-only once stored.
type diskMeta struct {
	id  disk.RecordID
	rt  weak.Pointer[settings]
	obj *cachestore.Object
}

func (t *diskMetas) slot(id disk.RecordID) *atomic.Pointer[diskMeta] {
	h := (id.Segment*0x9E3779B97F4A7C15 ^ uint64(id.Offset)) * 0x9E3779B97F4A7C15
	return &t.slots[h>>(64-diskMetaBits)]
}

// find returns the object decoded from record id under settings rt, or nil.
func (t *diskMetas) find(id disk.RecordID, rt *settings) *cachestore.Object {
	m := t.slot(id).Load()
	if m == nil || m.id != id || m.rt.Value() != rt {
		return nil
	}
	return m.obj
}

// keep stores obj, decoded from record id under rt, replacing what its slot held, and
// reports whether it did: a head over diskMetaMaxHead is not kept. obj must not change
// afterwards.
func (t *diskMetas) keep(id disk.RecordID, rt *settings, obj *cachestore.Object) bool {
	size := 0
	for i := range obj.Header.Len() {
		f := obj.Header.Field(i)
		if size += len(f.Name) + len(f.Value); size > diskMetaMaxHead {
			return false
		}
	}
	t.slot(id).Store(&diskMeta{id: id, rt: weak.Make(rt), obj: obj})
	return true
}
