package cachestore

import (
	"testing"

	"github.com/shoal-cdn/shoal/httpcache"
)

// variant is an object of url varying on X-V, stored under its own key.
func variant(url, value string) *Object {
	o := object(url, "\x00x-v="+value)
	o.Header = httpcache.Pack(append(o.Header.Header(), httpcache.Field{Name: "Vary", Value: "X-V"}))
	return o
}

// The fill records the names before storing (SetVary, then Set); when the URL's last other
// variant leaves between the two, the names stay recorded. Before, the record went with that
// variant and the one stored next was out of reach of every lookup.
func TestMemory_VaryRecordSurvivesEvictionBetweenSetVaryAndSet(t *testing.T) {
	m := newTestMemory(t, Config{MaxBytes: 1 << 20})
	const url = "http://h/v"
	first := variant(url, "one")
	m.SetVary(url, []string{"x-v"})
	mustSet(t, m, first)

	m.SetVary(url, []string{"x-v"}) // the second fill finished
	m.Del(first.Key)                // its sibling leaves before the fill's Set
	second := variant(url, "two")
	mustSet(t, m, second)
	if names, ok := m.Vary(url); !ok || len(names) != 1 || names[0] != "x-v" {
		t.Fatalf("Vary(%q) = %v, %v with the variant %q stored; want [x-v]", url, names, ok, second.Key)
	}
}

// On a full store the admission policy refuses a new variant; its URL's names stay recorded,
// so the next lookup asks for (and counts) the variant's own key. Issue 18: the record went
// with the refused variant and the URL was treated as not varying.
func TestMemory_VaryRecordSurvivesRefusal(t *testing.T) {
	const budget = 64 << 10
	m := newTestMemory(t, Config{MaxBytes: budget})
	var held []*Object
	for i := range 40 {
		o := object("http://h/hot/"+itoa(i), "")
		o.Key = o.URL
		o.Body = make([]byte, 1024)
		m.Set(o)
		held = append(held, o)
	}
	// Make the held objects popular, so a newcomer loses every admission contest.
	for range 30 {
		for _, o := range held {
			m.Get(o.Key)
		}
	}
	refusedBefore := m.Stats().Rejected
	var refused []string
	for i := range 50 {
		url := "http://h/v/" + itoa(i)
		o := variant(url, "one")
		o.Body = make([]byte, 4096)
		m.SetVary(url, []string{"x-v"})
		m.Set(o)
		if _, ok := m.Get(o.Key); !ok {
			refused = append(refused, url)
		}
	}
	if len(refused) == 0 || m.Stats().Rejected == refusedBefore {
		t.Skipf("the admission policy admitted every variant (%+v); nothing to check", m.Stats())
	}
	for _, url := range refused {
		if _, ok := m.Vary(url); !ok {
			t.Fatalf("Vary(%q) lost after the store refused its only variant (%d of 50 refused)", url, len(refused))
		}
	}
	checkIndexMatchesCache(t, m)
}

// A hard purge that removes a URL's last variant forgets its names; a purge of all forgets
// every record.
func TestMemory_VaryRecordDroppedByPurge(t *testing.T) {
	m := newTestMemory(t, Config{MaxBytes: 1 << 20})
	a, b := variant("http://h/a", "one"), variant("http://h/b", "one")
	for _, o := range []*Object{a, b} {
		m.SetVary(o.URL, []string{"x-v"})
		mustSet(t, m, o)
	}
	m.PurgeURL(a.URL, false)
	if _, ok := m.Vary(a.URL); ok {
		t.Errorf("Vary(%q) kept after a purge removed its only variant", a.URL)
	}
	if _, ok := m.Vary(b.URL); !ok {
		t.Errorf("Vary(%q) lost by a purge of another URL", b.URL)
	}
	m.SetVary("http://h/c", []string{"x-v"}) // a fill in flight
	m.PurgeAll(false)
	for _, u := range []string{b.URL, "http://h/c"} {
		if _, ok := m.Vary(u); ok {
			t.Errorf("Vary(%q) kept after a purge of everything", u)
		}
	}
}

// Records without objects are bounded: the oldest orphans are forgotten.
func TestMemory_OrphanVaryRecordsBounded(t *testing.T) {
	m := newTestMemory(t, Config{MaxBytes: 1 << 20}) // 256 orphans
	kept := variant("http://h/kept", "one")
	mustSet(t, m, kept)
	m.SetVary(kept.URL, []string{"x-v"})
	for i := range 1000 {
		m.SetVary("http://h/o/"+itoa(i), []string{"x-v"})
	}
	n := 0
	m.vary.Range(func(any, any) bool { n++; return true })
	if want := orphanCapacity(1<<20) + 1; n != want {
		t.Errorf("%d records after 1000 orphans, want %d (the ring plus the stored URL)", n, want)
	}
	if _, ok := m.Vary(kept.URL); !ok {
		t.Error("the record of a stored variant was forgotten with the orphans")
	}
	if _, ok := m.Vary("http://h/o/999"); !ok {
		t.Error("the newest orphan was forgotten")
	}
}

// A compressed variant's Vary names Accept-Encoding too; storing it leaves the URL's names as
// the origin gave them. (Set once recorded the names of each object's Vary: every request for
// a compressible URL then missed.)
func TestMemory_CompressedVariantKeepsTheURLsVary(t *testing.T) {
	m := newTestMemory(t, Config{MaxBytes: 1 << 20})
	identity := variant("http://h/c", "one")
	m.SetVary(identity.URL, []string{"x-v"})
	mustSet(t, m, identity)
	gz := variant(identity.URL, "one\x00gzip")
	gz.Header = httpcache.Pack(append(gz.Header.Header(), httpcache.Field{Name: "Vary", Value: "Accept-Encoding"}))
	mustSet(t, m, gz)
	if names, ok := m.Vary(identity.URL); !ok || len(names) != 1 || names[0] != "x-v" {
		t.Fatalf("Vary = %v, %v after storing a compressed variant; want [x-v]", names, ok)
	}
}
