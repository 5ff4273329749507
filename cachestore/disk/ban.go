package disk

import (
	"strings"
	"time"
)

// BanKind says what a Ban matches.
type BanKind uint8

const (
	BanKey    BanKind = iota + 1 // one cache key exactly (Disk.Delete)
	BanURL                       // every variant of a URL (Record.URL)
	BanPrefix                    // every URL starting with Value
	BanTag                       // every record carrying surrogate key Value
	BanAll                       // everything
	banMark                      // in the log only: the generation reached, kept across compaction
)

func (k BanKind) String() string {
	switch k {
	case BanKey:
		return "key"
	case BanURL:
		return "url"
	case BanPrefix:
		return "prefix"
	case BanTag:
		return "tag"
	case BanAll:
		return "all"
	}
	return "mark"
}

// Ban invalidates every record it matches that was filled before it. It is persisted, so a
// record banned before a restart stays unserved after it.
//
// A record matches when its Generation is below the ban's and, if the ban has a Time, its
// fill started (RequestTime) before that Time. Time is what makes a ban learned from a peer
// after a restart safe: it removes copies filled before the purge, not a refill made after
// it (up to the clocks' skew).
type Ban struct {
	Kind       BanKind
	Soft       bool      // mark matches stale (Handle.SoftPurged) instead of removing them
	Value      string    // key, URL, prefix or surrogate key; empty for BanAll
	Time       time.Time // when the purge was made; zero: matches on generation alone
	Generation uint64    // set by AddBan: the tier's generation after this ban
}

func (b *Ban) matches(e *entry) bool {
	if e.gen >= b.Generation {
		return false
	}
	if !b.Time.IsZero() && e.reqTime != 0 && e.reqTime >= b.Time.UnixNano() {
		return false
	}
	switch b.Kind {
	case BanKey:
		return e.key == b.Value
	case BanURL:
		return e.url() == b.Value
	case BanPrefix:
		return strings.HasPrefix(e.url(), b.Value)
	case BanTag:
		for _, t := range e.tags {
			if t == b.Value {
				return true
			}
		}
	case BanAll:
		return true
	}
	return false
}

// banSet finds the bans that may match a record without trying every ban: by key, URL and
// tag in maps, prefixes and "all" in lists (purges by prefix and of everything are rare).
type banSet struct {
	byValue map[BanKind]map[string][]*Ban
	scan    []*Ban
	floor   uint64 // records below this generation predate the oldest ban kept: refused
	n       int
}

func newBanSet() *banSet {
	return &banSet{byValue: map[BanKind]map[string][]*Ban{BanKey: {}, BanURL: {}, BanTag: {}}}
}

func (s *banSet) add(b *Ban) {
	s.n++
	switch b.Kind {
	case BanKey, BanURL, BanTag:
		s.byValue[b.Kind][b.Value] = append(s.byValue[b.Kind][b.Value], b)
	case BanPrefix, BanAll:
		s.scan = append(s.scan, b)
	}
}

// verdict is what the bans of a set say of one record.
type verdict int

const (
	keep      verdict = iota
	softPurge         // serve only while revalidating
	hardPurge         // never serve
)

// judge returns the strongest verdict of the bans in the set that match e.
func (s *banSet) judge(e *entry) verdict {
	if e.gen < s.floor {
		return hardPurge
	}
	v := keep
	try := func(bs []*Ban) {
		for _, b := range bs {
			if v != hardPurge && b.matches(e) {
				if b.Soft {
					v = softPurge
				} else {
					v = hardPurge
				}
			}
		}
	}
	try(s.byValue[BanKey][e.key])
	try(s.byValue[BanURL][e.url()])
	try(s.scan)
	for _, t := range e.tags {
		try(s.byValue[BanTag][t])
	}
	return v
}
