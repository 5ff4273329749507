package h2

import (
	"bytes"
	"unsafe"

	"golang.org/x/net/http2/hpack"
)

// hpackMemo remembers, per connection, the indexed representation (RFC 7541 section 6.1)
// the encoder last chose for a field, so a field sent again is written without the encoder's
// table search (two string hashes and map lookups per field, the largest cost of a cache
// hit's header block). A hit's fields are the same strings every time (the stored head's,
// interned by the caller, and statusText), so a slot is found by the strings' addresses,
// not their contents, and holds the strings, which keeps their memory from being reused by
// another string while the slot refers to it.
//
// An indexed representation names a position in the dynamic table, and every insertion
// moves every dynamic entry down by one (section 2.3.3), as does an eviction or a table
// size change: so a slot is valid only in the epoch it was made in, and the epoch advances
// whenever the encoder inserts (a literal with incremental indexing, section 6.2.1) or the
// peer's SETTINGS_HEADER_TABLE_SIZE arrives. Replaying an indexed representation changes no
// table state, on either side, so the block the decoder sees is exactly the one the encoder
// would have written.
type hpackMemo struct {
	epoch   uint64 // starts at 1: a zero slot never matches; 64 bits never wrap, so a stale slot never matches again
	pending bool   // a table size update may be due at the next block's start (section 4.2)
	slots   [hpackMemoSlots]hpackSlot
}

type hpackSlot struct {
	name, value string
	epoch       uint64
	n           uint8
	b           [3]byte // an index below 2^14: at most 3 bytes with a 7-bit prefix
}

const hpackMemoSlots = 64 // power of two; a hit's head has about a dozen fields

func (m *hpackMemo) slot(name, value string) *hpackSlot {
	h := uint64(uintptr(unsafe.Pointer(unsafe.StringData(name))))*0x9e3779b97f4a7c15 ^
		uint64(uintptr(unsafe.Pointer(unsafe.StringData(value))))*0xc2b2ae3d27d4eb4f ^ uint64(len(value))
	return &m.slots[h>>(64-6)]
}

func sameString(a, b string) bool {
	return len(a) == len(b) && unsafe.StringData(a) == unsafe.StringData(b)
}

// tableSizeChanged records a SETTINGS_HEADER_TABLE_SIZE from the peer: the encoder may now
// owe a size update and evict, so nothing remembered holds.
func (m *hpackMemo) tableSizeChanged() {
	m.epoch++
	m.pending = true
}

// writeField appends f's representation to buf, from the memo when it holds f in this
// epoch, else from enc (which writes to buf), remembering an indexed result.
func (m *hpackMemo) writeField(enc *hpack.Encoder, buf *bytes.Buffer, name, value string) {
	s := m.slot(name, value)
	if !m.pending && s.epoch == m.epoch && sameString(s.name, name) && sameString(s.value, value) {
		buf.Write(s.b[:s.n])
		return
	}
	before := buf.Len()
	enc.WriteField(hpack.HeaderField{Name: name, Value: value})
	if m.pending {
		// The first field of a block after a size change carries the update: not a
		// representation to replay, and the table may have shrunk.
		m.pending = false
		m.epoch++
		return
	}
	rep := buf.Bytes()[before:]
	switch {
	case rep[0]&0x80 != 0: // indexed: section 6.1
		if len(rep) <= len(s.b) {
			s.name, s.value, s.epoch, s.n = name, value, m.epoch, uint8(copy(s.b[:], rep))
		}
	case rep[0]&0xc0 == 0x40: // inserted: section 6.2.1
		m.epoch++
	}
}
