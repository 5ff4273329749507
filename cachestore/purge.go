package cachestore

import "time"

// PurgeURL removes every variant of url, or marks them stale when soft. It returns how many
// objects it removed or marked. Like every purge it bumps the generation, so a fill of url
// that started before it is refused (or, when soft, stored marked) by Set.
func (m *Memory) PurgeURL(url string, soft bool) int {
	return m.purge(purgeRecord{kind: kindURL, value: url, soft: soft})
}

// PurgePrefix removes every object whose URL starts with prefix, or marks them stale when
// soft. Its cost grows with the objects matched, not with the objects stored.
func (m *Memory) PurgePrefix(prefix string, soft bool) int {
	return m.purge(purgeRecord{kind: kindPrefix, value: prefix, soft: soft})
}

// PurgeTag removes every object carrying the surrogate key tag, or marks them stale when soft.
func (m *Memory) PurgeTag(tag string, soft bool) int {
	return m.purge(purgeRecord{kind: kindTag, value: tag, soft: soft})
}

// PurgeAll removes every object, or marks them all stale when soft.
func (m *Memory) PurgeAll(soft bool) int {
	return m.purge(purgeRecord{kind: kindAll, soft: soft})
}

func (m *Memory) purge(r purgeRecord) int {
	var n int
	if r.soft {
		n = m.softPurge(r)
	} else {
		n = m.hardPurge(r)
	}
	m.purged[r.kind].Add(uint64(n))
	return n
}

// softPurge needs only mu: a Set either indexed its object before (and the purge marks it)
// or judges it after against the log record added here.
func (m *Memory) softPurge(r purgeRecord) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.bump(r)
	n := 0
	m.idx.each(r, func(s slot) {
		s.obj.softPurged.Store(true)
		n++
	})
	return n
}

func (m *Memory) hardPurge(r purgeRecord) int {
	m.fillMu.Lock()
	defer m.fillMu.Unlock()
	if m.closed {
		return 0
	}
	if r.kind == kindAll {
		return m.clear(r)
	}

	m.mu.Lock()
	m.bump(r)
	var victims []slot
	m.idx.each(r, func(s slot) { victims = append(victims, s) })
	for _, s := range victims {
		m.forgetLocked(s, dropVary)
	}
	m.syncCounts()
	if r.kind == kindURL {
		m.releaseVaryLocked(r.value, dropVary) // an orphan record of the URL, if any
	}
	m.mu.Unlock()
	return len(victims)
}

// clear empties the store; nothing it removes counts as evicted.
func (m *Memory) clear(r purgeRecord) int {
	m.mu.Lock()
	m.bump(r)
	n := int(m.idx.objects)
	m.idx = newIndex()
	m.pol.clear()
	m.syncCounts()
	m.clearVaryLocked()
	m.tab.clear()
	m.mu.Unlock()
	return n
}

// bump records r in the purge log under a new generation; the caller holds mu.
func (m *Memory) bump(r purgeRecord) {
	r.at = time.Now().UnixNano()
	m.gen.Store(m.log.add(r))
}

// PurgedSince reports whether a purge (hard or soft, by URL, prefix, tag or all) that this
// store applied at or after since matches o, as Set would match it. An object a peer sent
// is as old as the peer's fill, not as old as the request that fetched it: a purge applied
// here before that request started, and not yet applied on the peer, still has to refuse
// it, and no generation read at the request's start can see that. It answers true when the
// purge log (the last 4,096 purges) no longer reaches back to since.
func (m *Memory) PurgedSince(o *Object, since time.Time) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.log.purgedSince(o, since)
}
