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

// Delete bans one key. It is a ban (persisted) rather than an unlink, so the record cannot
// come back at the next load.
func (d *Disk) Delete(key string) int { return d.AddBan(Ban{Kind: BanKey, Value: key}) }

// AddBan applies b: it takes the next generation, persists b in the ban log (fsynced), drops
// the objects it matches (marks them SoftPurged if b.Soft) and returns how many. Records
// written later with an older Generation are refused, and loaded records it matches are never
// indexed. Bans learned from peers come in here too, with their Time. The index finds what a
// ban by key, URL, prefix or tag matches without a scan (BenchmarkDisk_AddBan: 0.24 ms with
// the fsync, over 100,000 objects; a full scan took 16-20 ms); only BanAll visits every
// object. The search runs under the read lock, so Gets go on. AddBans run one at a time.
func (d *Disk) AddBan(b Ban) int {
	d.banMu.Lock()
	defer d.banMu.Unlock()
	d.mu.Lock()
	b.Generation = d.gen.Add(1)
	d.bans.add(&b) // from here on every record published is judged against b
	d.banList = append(d.banList, &b)
	d.mu.Unlock()
	if !d.logBan(&b) {
		d.missedBan()
	}
	// The scan runs under the read lock, so Gets go on meanwhile; the write lock is held only
	// to remove what it found. An entry replaced in between is newer than b and stays.
	var found []*entry
	d.mu.RLock()
	d.index.candidates(&b, func(e *entry) {
		if b.matches(e) {
			found = append(found, e)
		}
	})
	d.mu.RUnlock()
	if len(found) == 0 {
		return 0
	}
	n := 0
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, e := range found {
		if d.index.get(e.key) != e {
			continue
		}
		n++
		if b.Soft {
			e.soft.Store(true)
			continue
		}
		d.index.remove(e)
		d.objects.Add(-1)
	}
	return n
}

// Bans returns the bans kept (persisted and not yet compacted away), oldest first, with
// their Time: what a peer rejoining after a restart asks for.
func (d *Disk) Bans() []Ban {
	d.mu.RLock()
	defer d.mu.RUnlock()
	out := make([]Ban, len(d.banList))
	for i, b := range d.banList {
		out[i] = *b
	}
	return out
}

// logBan appends b to the ban log and reports whether it is there. A failure disables the
// tier; a disabled tier (ENOSPC, EIO, a ban log that did not open) logs nothing.
func (d *Disk) logBan(b *Ban) bool {
	if d.banlog == nil || d.disabled.Load() {
		return false
	}
	if err := d.banlog.append(b); err != nil {
		d.disable("ban log", err)
		return false
	}
	return true
}
