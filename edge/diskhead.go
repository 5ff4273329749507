package edge

import (
	"encoding/binary"
	"errors"
	"unsafe"

	"github.com/shoal-cdn/shoal/httpcache"
)

// The disk tier stores a response head as opaque bytes (disk.Record.Head). Ours is
// version byte, status, field count, then each field's name and value, every number and
// length a uvarint: compact, no escaping, and a decoder that checks every length against
// what is left, so a damaged record is a miss, never a panic.
const headVersion = 1

// maxHeadFields bounds the fields decoded from one record.
const maxHeadFields = 1024

var errBadHead = errors.New("edge: disk record head is malformed")

func encodeHead(status int, h httpcache.Header) []byte {
	size := 1 + binary.MaxVarintLen64*2
	for _, f := range h {
		size += len(f.Name) + len(f.Value) + 2*binary.MaxVarintLen32
	}
	b := make([]byte, 0, size)
	b = append(b, headVersion)
	b = binary.AppendUvarint(b, uint64(status))
	b = binary.AppendUvarint(b, uint64(len(h)))
	for _, f := range h {
		b = binary.AppendUvarint(b, uint64(len(f.Name)))
		b = append(b, f.Name...)
		b = binary.AppendUvarint(b, uint64(len(f.Value)))
		b = append(b, f.Value...)
	}
	return b
}

// decodeHead decodes b; the names and values it returns are slices of one copy of b.
func decodeHead(b []byte) (int, httpcache.Header, error) { return decodeHeadString(string(b)) }

// decodeHandleHead decodes the head of a disk record as read by its Handle, in place: the
// names and values are slices of the Handle's Head, which the tier allocated for this Handle
// and never writes again (disk.Handle), so the decoding allocates the field list only, not a
// string per name and value (two per field; a disk hit whose decoding is not kept, see
// diskmeta.go, decoded 9 strings for a 4-field head).
func decodeHandleHead(head []byte) (int, httpcache.Header, error) {
	return decodeHeadString(unsafe.String(unsafe.SliceData(head), len(head)))
}

func decodeHeadString(b string) (int, httpcache.Header, error) {
	if len(b) == 0 || b[0] != headVersion {
		return 0, nil, errBadHead
	}
	b = b[1:]
	num := func() (uint64, bool) {
		v, k := uvarint(b)
		if k <= 0 {
			return 0, false
		}
		b = b[k:]
		return v, true
	}
	str := func() (string, bool) {
		l, ok := num()
		if !ok || l > uint64(len(b)) {
			return "", false
		}
		s := b[:l]
		b = b[l:]
		return s, true
	}
	status, ok := num()
	if !ok || status < 100 || status > 999 {
		return 0, nil, errBadHead
	}
	count, ok := num()
	if !ok || count > maxHeadFields {
		return 0, nil, errBadHead
	}
	h := make(httpcache.Header, 0, count)
	for range count {
		name, ok1 := str()
		value, ok2 := str()
		if !ok1 || !ok2 || name == "" {
			return 0, nil, errBadHead
		}
		h = append(h, httpcache.Field{Name: name, Value: value})
	}
	if len(b) != 0 {
		return 0, nil, errBadHead
	}
	return int(status), h, nil
}

// uvarint is binary.Uvarint of a string: the value and the bytes read, 0 when s ends first,
// negative when the value overflows 64 bits.
func uvarint(s string) (uint64, int) {
	var x uint64
	var shift uint
	for i := 0; i < len(s) && i < binary.MaxVarintLen64; i++ {
		c := s[i]
		if c < 0x80 {
			if i == binary.MaxVarintLen64-1 && c > 1 {
				return 0, -(i + 1)
			}
			return x | uint64(c)<<shift, i + 1
		}
		x |= uint64(c&0x7f) << shift
		shift += 7
	}
	if len(s) > binary.MaxVarintLen64 {
		return 0, -(binary.MaxVarintLen64 + 1)
	}
	return 0, 0
}
