package disk

import (
	"strings"
	"sync/atomic"
)

// entry is the index's record of one object on disk: where it is, and what bans match on.
// Its fields are set before it is published under Disk.mu and never change after, except
// the two marks.
type entry struct {
	key      string
	urlv     string // "" when the URL is the key
	tags     []string
	seg      *segment
	off      int64 // record start in seg
	size     int64 // whole record
	headOff  int64 // relative to off
	headLen  int64
	bodyLen  int64
	reqTime  int64 // Unix ns, 0 for unknown
	respTime int64
	expires  int64
	gen      uint64
	sum      uint64

	verified atomic.Bool // the whole record's checksum was checked (or this process wrote it)
	hit      atomic.Bool // a Get found it since it was written: re-inserted when its segment is reclaimed
	soft     atomic.Bool // a soft ban matched it: Handle.SoftPurged
}

func (e *entry) url() string {
	if e.urlv == "" {
		return e.key
	}
	return e.urlv
}

func newEntry(m *meta, seg *segment, off int64) *entry {
	url := m.url
	if url != "" && strings.HasPrefix(m.key, url) {
		url = m.key[:len(url)] // the edge's key starts with the URL: share its bytes (80 B less per object)
	}
	return &entry{key: m.key, urlv: url, tags: m.tags, seg: seg, off: off, size: m.size(),
		headOff: m.headOff(), headLen: m.headLen, bodyLen: m.bodyLen, reqTime: m.reqTime,
		respTime: m.respTime, expires: m.expires, gen: m.gen, sum: m.sum}
}
