package disk

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/cespare/xxhash/v2"
)

// Record is one response to store. Head and Body are kept by reference until the record is
// written: the caller must not change them after Put.
type Record struct {
	Key          string    // full cache key (primary key plus the variant's secondary key)
	URL          string    // what URL and prefix bans match; empty means Key
	Tags         []string  // surrogate keys, matched by tag bans
	Head         []byte    // the response head, opaque to the store (the edge's serialisation of status and fields)
	Body         []byte    // the response body
	RequestTime  time.Time // when the filling request left for the origin (RFC 9111 §4.2.3 request_time)
	ResponseTime time.Time // when its response arrived (response_time)
	Expires      time.Time // absolute end of freshness, so a loaded object keeps what remains; zero: unknown
	// Generation is the tier's generation read when the fill started (Disk.Begin): a ban made
	// after it refuses the record. Zero means "now", read when Put is called.
	Generation uint64
}

// On disk a record is: a fixed header of headerSize bytes, then key, URL, tags, head, body.
//
//	0  magic    u32      24 bodyLen  u64     56 gen      u64
//	4  reserved u32      32 reqTime  i64     64 metaSum  u64 (xxhash of [0,64) + key, URL, tags)
//	8  keyLen   u32      40 respTime i64     72 sum      u64 (xxhash of [0,64) + everything after the header)
//	12 urlLen   u32      48 expires  i64
//	16 tagsLen  u32
//	20 headLen  u32
//
// Times are Unix nanoseconds, 0 for the zero time. Tags are each a u16 length and the bytes.
// metaSum lets the loader trust the lengths without reading the body; sum covers the body too.
const (
	headerSize  = 80
	recordMagic = 0x53484c31 // "SHL1"
	maxMetaLen  = 1 << 20    // key + URL + tags
	maxHeadLen  = 1 << 20
)

var errBadRecord = errors.New("bad record")

// meta is a record's header and metadata, decoded.
type meta struct {
	key, url             string
	tags                 []string
	headLen              int64
	bodyLen              int64
	reqTime, respTime    int64
	expires              int64
	gen                  uint64
	sum                  uint64
	metaLen              int64 // key + URL + tags bytes
	keyLen, urlLen, tLen int64
}

func (m *meta) size() int64 { return headerSize + m.metaLen + m.headLen + m.bodyLen }

// headOff is relative to the record's start.
func (m *meta) headOff() int64 { return headerSize + m.metaLen }

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// encodeHeader returns the header and metadata bytes of r (everything before Head), with both
// checksums filled in.
func encodeHeader(r *Record, gen uint64) ([]byte, error) {
	b, d, err := startHeader(r, gen, int64(len(r.Body)))
	if err != nil {
		return nil, err
	}
	d.Write(r.Body)
	binary.LittleEndian.PutUint64(b[72:], d.Sum64())
	return b, nil
}

// startHeader returns the header and metadata bytes of r for a body of bodyLen bytes, with
// metaSum filled in, and the whole-record digest fed up to the end of r.Head: the caller
// writes the body into it and puts its Sum64 at b[72:].
func startHeader(r *Record, gen uint64, bodyLen int64) ([]byte, *xxhash.Digest, error) {
	url := r.URL
	if url == r.Key {
		url = ""
	}
	tagsLen := 0
	for _, t := range r.Tags {
		if len(t) > 0xffff {
			return nil, nil, fmt.Errorf("tag of %d bytes: %w", len(t), errBadRecord)
		}
		tagsLen += 2 + len(t)
	}
	metaLen := len(r.Key) + len(url) + tagsLen
	if metaLen > maxMetaLen || len(r.Head) > maxHeadLen {
		return nil, nil, fmt.Errorf("metadata of %d bytes, head of %d: %w", metaLen, len(r.Head), errBadRecord)
	}
	b := make([]byte, headerSize+metaLen)
	le := binary.LittleEndian
	le.PutUint32(b[0:], recordMagic)
	le.PutUint32(b[8:], uint32(len(r.Key)))
	le.PutUint32(b[12:], uint32(len(url)))
	le.PutUint32(b[16:], uint32(tagsLen))
	le.PutUint32(b[20:], uint32(len(r.Head)))
	le.PutUint64(b[24:], uint64(bodyLen))
	le.PutUint64(b[32:], uint64(unixNano(r.RequestTime)))
	le.PutUint64(b[40:], uint64(unixNano(r.ResponseTime)))
	le.PutUint64(b[48:], uint64(unixNano(r.Expires)))
	le.PutUint64(b[56:], gen)
	p := b[headerSize:]
	p = p[copy(p, r.Key):]
	p = p[copy(p, url):]
	for _, t := range r.Tags {
		le.PutUint16(p, uint16(len(t)))
		p = p[2+copy(p[2:], t):]
	}
	d := xxhash.New()
	d.Write(b[:64])
	d.Write(b[headerSize:])
	le.PutUint64(b[64:], d.Sum64())
	d.Write(r.Head)
	return b, d, nil
}

// decodeHeader reads the fixed header; avail is how many bytes the segment holds from the
// record's start, so lengths past the end are caught before anything is allocated.
func decodeHeader(h []byte, avail int64) (*meta, error) {
	if len(h) < headerSize {
		return nil, fmt.Errorf("short header: %w", errBadRecord)
	}
	le := binary.LittleEndian
	if le.Uint32(h[0:]) != recordMagic {
		return nil, fmt.Errorf("magic %#x: %w", le.Uint32(h[0:]), errBadRecord)
	}
	m := &meta{
		keyLen:   int64(le.Uint32(h[8:])),
		urlLen:   int64(le.Uint32(h[12:])),
		tLen:     int64(le.Uint32(h[16:])),
		headLen:  int64(le.Uint32(h[20:])),
		bodyLen:  int64(le.Uint64(h[24:])),
		reqTime:  int64(le.Uint64(h[32:])),
		respTime: int64(le.Uint64(h[40:])),
		expires:  int64(le.Uint64(h[48:])),
		gen:      le.Uint64(h[56:]),
		sum:      le.Uint64(h[72:]),
	}
	m.metaLen = m.keyLen + m.urlLen + m.tLen
	if m.metaLen > maxMetaLen || m.headLen > maxHeadLen || m.bodyLen < 0 || m.bodyLen > avail || m.size() > avail {
		return nil, fmt.Errorf("lengths past the segment's end: %w", errBadRecord)
	}
	return m, nil
}

// decodeMeta checks metaSum over the header and metadata and fills key, URL and tags.
func decodeMeta(m *meta, h, metaBytes []byte) error {
	d := xxhash.New()
	d.Write(h[:64])
	d.Write(metaBytes)
	if d.Sum64() != binary.LittleEndian.Uint64(h[64:]) {
		return fmt.Errorf("metadata checksum: %w", errBadRecord)
	}
	m.key = string(metaBytes[:m.keyLen])
	if url := metaBytes[m.keyLen : m.keyLen+m.urlLen]; m.urlLen <= m.keyLen && string(url) == m.key[:m.urlLen] {
		m.url = m.key[:m.urlLen] // the edge's key starts with its URL: share the bytes, one allocation less
	} else {
		m.url = string(url)
	}
	p := metaBytes[m.keyLen+m.urlLen:]
	for len(p) > 0 {
		if len(p) < 2 {
			return fmt.Errorf("tags: %w", errBadRecord)
		}
		n := int(binary.LittleEndian.Uint16(p))
		if len(p) < 2+n {
			return fmt.Errorf("tags: %w", errBadRecord)
		}
		m.tags = append(m.tags, string(p[2:2+n]))
		p = p[2+n:]
	}
	return nil
}

// recordSum is the whole-record checksum of a record read back whole.
func recordSum(rec []byte) uint64 {
	d := xxhash.New()
	d.Write(rec[:64])
	d.Write(rec[headerSize:])
	return d.Sum64()
}
