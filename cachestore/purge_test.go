package cachestore

import (
	"slices"
	"testing"
)

// purgeFixture is a small site: two images under /img/, a neighbour /img2/ and a bare /img,
// and a stylesheet stored in two variants.
func purgeFixture() []*Object {
	return []*Object{
		object("http://h/img/a.png", "", "t1"),
		object("http://h/img/b.png", "", "t1", "t2"),
		object("http://h/img2/c.png", "", "t2"),
		object("http://h/img", ""),
		object("http://h/css/d.css", "#gzip", "t3"),
		object("http://h/css/d.css", "#br"),
	}
}

func TestMemory_PurgeKinds(t *testing.T) {
	tests := []struct {
		name  string
		purge func(m *Memory, soft bool) int
		hit   []string // keys the purge must remove (hard) or mark (soft); the rest stay untouched
	}{
		{"url takes every variant", func(m *Memory, soft bool) int { return m.PurgeURL("http://h/css/d.css", soft) },
			[]string{"http://h/css/d.css#gzip", "http://h/css/d.css#br"}},
		{"url is exact", func(m *Memory, soft bool) int { return m.PurgeURL("http://h/img", soft) },
			[]string{"http://h/img"}},
		{"prefix spares /img2 and /img", func(m *Memory, soft bool) int { return m.PurgePrefix("http://h/img/", soft) },
			[]string{"http://h/img/a.png", "http://h/img/b.png"}},
		{"prefix without slash takes neighbours", func(m *Memory, soft bool) int { return m.PurgePrefix("http://h/img", soft) },
			[]string{"http://h/img/a.png", "http://h/img/b.png", "http://h/img2/c.png", "http://h/img"}},
		{"tag", func(m *Memory, soft bool) int { return m.PurgeTag("t2", soft) },
			[]string{"http://h/img/b.png", "http://h/img2/c.png"}},
		{"tag matching nothing", func(m *Memory, soft bool) int { return m.PurgeTag("t", soft) }, nil},
		{"prefix matching nothing", func(m *Memory, soft bool) int { return m.PurgePrefix("http://h/z", soft) }, nil},
		{"all", func(m *Memory, soft bool) int { return m.PurgeAll(soft) },
			[]string{"http://h/img/a.png", "http://h/img/b.png", "http://h/img2/c.png", "http://h/img",
				"http://h/css/d.css#gzip", "http://h/css/d.css#br"}},
	}
	for _, tc := range tests {
		for _, soft := range []bool{false, true} {
			name := tc.name + map[bool]string{false: "/hard", true: "/soft"}[soft]
			t.Run(name, func(t *testing.T) {
				m := newTestMemory(t, Config{})
				objs := purgeFixture()
				for _, o := range objs {
					mustSet(t, m, o)
				}
				if n := tc.purge(m, soft); n != len(tc.hit) {
					t.Fatalf("purge returned %d, want %d", n, len(tc.hit))
				}
				for _, o := range objs {
					hit := slices.Contains(tc.hit, o.Key)
					got, stored := m.Get(o.Key)
					switch {
					case hit && !soft && stored:
						t.Errorf("%s still stored after a hard purge that matches it", o.Key)
					case (!hit || soft) && (!stored || got != o):
						t.Errorf("%s gone after a purge that should have kept it", o.Key)
					case o.SoftPurged() != (hit && soft):
						t.Errorf("%s SoftPurged = %v, want %v", o.Key, o.SoftPurged(), hit && soft)
					}
				}
				checkIndexMatchesCache(t, m)
				wantObjects := len(objs)
				if !soft {
					wantObjects -= len(tc.hit)
				}
				if st := m.Stats(); st.Objects != int64(wantObjects) {
					t.Errorf("Stats.Objects = %d, want %d", st.Objects, wantObjects)
				}
			})
		}
	}
}

func TestMemory_PurgeBumpsGeneration(t *testing.T) {
	m := newTestMemory(t, Config{})
	g0 := m.Begin()
	m.PurgeTag("nothing", false)
	m.PurgeURL("http://h/x", true)
	if g := m.Begin(); g != g0+2 {
		t.Fatalf("Begin after two purges = %d, want %d", g, g0+2)
	}
}

// TestMemory_SetRefusesFillsOlderThanAMatchingPurge is the purge/fill race: a fill begins,
// a purge lands while the origin is answering, then the fill tries to store what the origin
// sent before the purge.
func TestMemory_SetRefusesFillsOlderThanAMatchingPurge(t *testing.T) {
	tests := []struct {
		name      string
		purge     func(m *Memory)
		wantSet   bool
		wantStale bool
	}{
		{"hard url match", func(m *Memory) { m.PurgeURL("http://h/img/a.png", false) }, false, false},
		{"hard url other", func(m *Memory) { m.PurgeURL("http://h/img/b.png", false) }, true, false},
		{"hard prefix match", func(m *Memory) { m.PurgePrefix("http://h/img/", false) }, false, false},
		{"hard prefix neighbour", func(m *Memory) { m.PurgePrefix("http://h/img2/", false) }, true, false},
		{"hard tag match", func(m *Memory) { m.PurgeTag("t1", false) }, false, false},
		{"hard tag other", func(m *Memory) { m.PurgeTag("t2", false) }, true, false},
		{"hard all", func(m *Memory) { m.PurgeAll(false) }, false, false},
		{"soft url match stores it stale", func(m *Memory) { m.PurgeURL("http://h/img/a.png", true) }, true, true},
		{"soft all stores it stale", func(m *Memory) { m.PurgeAll(true) }, true, true},
		{"soft then hard match", func(m *Memory) { m.PurgeTag("t1", true); m.PurgeTag("t1", false) }, false, false},
		{"soft other", func(m *Memory) { m.PurgeTag("t2", true) }, true, false},
		{"log still reaches back", func(m *Memory) {
			for range purgeLogSize {
				m.PurgeURL("http://h/other", false)
			}
		}, true, false},
		{"log forgot: refuse conservatively", func(m *Memory) {
			for range purgeLogSize + 1 {
				m.PurgeURL("http://h/other", false)
			}
		}, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newTestMemory(t, Config{})
			o := object("http://h/img/a.png", "", "t1")
			o.Generation = m.Begin()
			tc.purge(m)
			if got := m.Set(o); got != tc.wantSet {
				t.Fatalf("Set = %v, want %v", got, tc.wantSet)
			}
			if o.SoftPurged() != tc.wantStale {
				t.Fatalf("SoftPurged = %v, want %v", o.SoftPurged(), tc.wantStale)
			}
			if _, ok := m.Get(o.Key); ok != tc.wantSet {
				t.Fatalf("Get found it = %v, want %v", ok, tc.wantSet)
			}
			if !tc.wantSet && m.Stats().Refused != 1 {
				t.Fatalf("Stats.Refused = %d, want 1", m.Stats().Refused)
			}

			// A fill that begins after the purge is not affected by it.
			later := object("http://h/img/a.png", "", "t1")
			later.Generation = m.Begin()
			if !m.Set(later) || later.SoftPurged() {
				t.Fatal("a fill begun after the purge was refused or marked")
			}
		})
	}
}

// TestMemory_PurgeToleratesEntriesTheTableNoLongerHolds covers a stored object beside an
// index entry whose key the table never had.
func TestMemory_PurgeToleratesEntriesTheTableNoLongerHolds(t *testing.T) {
	m := newTestMemory(t, Config{})
	queued := object("http://h/q", "", "t")
	if !m.Set(queued) {
		t.Fatal("Set refused")
	}
	m.mu.Lock()
	m.idx.add(slot{obj: object("http://h/ghost", "", "t")})
	m.mu.Unlock()

	if n := m.PurgeTag("t", false); n != 2 {
		t.Fatalf("PurgeTag = %d, want 2", n)
	}
	if _, ok := m.Get(queued.Key); ok {
		t.Fatal("an object stored when the purge ran survived it")
	}
	checkIndexMatchesCache(t, m)
}
