package cachestore

import (
	"strings"
	"time"
)

// purgeKind is what a purge matches on; its String is the metrics label.
type purgeKind uint8

const (
	kindURL purgeKind = iota
	kindPrefix
	kindTag
	kindAll
	numKinds
)

func (k purgeKind) String() string {
	switch k {
	case kindURL:
		return "url"
	case kindPrefix:
		return "prefix"
	case kindTag:
		return "tag"
	default:
		return "all"
	}
}

// purgeRecord is one purge as the log remembers it.
type purgeRecord struct {
	value string
	kind  purgeKind
	soft  bool
	at    int64 // when the store applied it, Unix nanoseconds (see Memory.PurgedSince)
}

func (r purgeRecord) matches(o *Object) bool {
	switch r.kind {
	case kindURL:
		return o.URL == r.value
	case kindPrefix:
		return strings.HasPrefix(o.URL, r.value)
	case kindTag:
		for _, t := range o.Tags.List() {
			if t == r.value {
				return true
			}
		}
		return false
	default:
		return true
	}
}

// verdict is what Set does with an object in the light of the purges made since its fill began.
type verdict uint8

const (
	accept    verdict = iota
	markStale         // a soft purge newer than the fill matches: store it, marked
	refuse            // a hard purge newer than the fill matches, or the log is too short to tell
)

// purgeLogSize bounds the log. A fill must finish within this many purges or be refused;
// at a purge storm of 1,000 purges a second that is four seconds.
const purgeLogSize = 4096

// purgeLog remembers the most recent purges, one per generation: every purge bumps the
// generation by one, so the record of generation g sits at a computable slot. Not safe for
// concurrent use; Memory guards it with its index mutex.
type purgeLog struct {
	records []purgeRecord // ring buffer; records[start] has generation oldest
	start   int
	oldest  uint64 // generation of the oldest record kept
	gen     uint64 // current generation: that of the newest record, 0 before any purge
}

func newPurgeLog(size int) purgeLog {
	return purgeLog{records: make([]purgeRecord, 0, size), oldest: 1}
}

// add records a purge and returns its generation.
func (l *purgeLog) add(r purgeRecord) uint64 {
	l.gen++
	if len(l.records) < cap(l.records) {
		l.records = append(l.records, r)
		return l.gen
	}
	l.records[l.start] = r
	l.start = (l.start + 1) % len(l.records)
	l.oldest++
	return l.gen
}

// purgedSince reports whether a purge applied at or after since matches o, walking from the
// newest purge back to the first one older than since. A log that forgot a purge it would
// have had to look at answers true: it cannot tell.
func (l *purgeLog) purgedSince(o *Object, since time.Time) bool {
	at := since.UnixNano()
	for g := l.gen; g >= l.oldest && g > 0; g-- {
		r := &l.records[(l.start+int(g-l.oldest))%len(l.records)]
		if r.at < at {
			return false
		}
		if r.matches(o) {
			return true
		}
	}
	return l.oldest > 1 // purges older than the log may be newer than since
}

// judge compares o with every purge newer than o.Generation. The work is bounded by the
// purges made during one fill, never by the number of stored objects.
func (l *purgeLog) judge(o *Object) verdict {
	if o.Generation >= l.gen {
		return accept
	}
	first := o.Generation + 1
	if first < l.oldest {
		return refuse // the purges that may match o have been forgotten
	}
	v := accept
	for g := first; g <= l.gen; g++ {
		r := &l.records[(l.start+int(g-l.oldest))%len(l.records)]
		if !r.matches(o) {
			continue
		}
		if !r.soft {
			return refuse
		}
		v = markStale
	}
	return v
}
