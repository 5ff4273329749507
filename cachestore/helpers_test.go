package cachestore

import (
	"strconv"
	"testing"

	"github.com/shoal-cdn/shoal/httpcache"
)

func newTestMemory(t testing.TB, cfg Config) *Memory {
	t.Helper()
	m, err := NewMemory(cfg, nil)
	if err != nil {
		t.Fatalf("NewMemory: %v", err)
	}
	t.Cleanup(m.Close)
	return m
}

// object builds an object of url with key url+variant, a small body and the given tags.
func object(url, variant string, tags ...string) *Object {
	return &Object{
		Key:    url + variant,
		URL:    url,
		Status: 200,
		Header: httpcache.Pack(httpcache.Header{{Name: "Content-Type", Value: "text/plain"}}),
		Body:   []byte("body of " + url + variant),
		Tags:   NewTags(tags...),
	}
}

// mustSet stores o, failing the test if the store refuses it or a Get does not find it.
func mustSet(t testing.TB, m *Memory, o *Object) {
	t.Helper()
	if !m.Set(o) {
		t.Fatalf("Set(%q) refused", o.Key)
	}
	if got, ok := m.Get(o.Key); !ok || got != o {
		t.Fatalf("Get(%q) after Set = %v, %v; want the object stored", o.Key, got, ok)
	}
}

// checkIndexMatchesCache asserts the store's invariant: the index holds exactly the objects
// the table holds, the tag index holds exactly their tags, and the counts agree.
func checkIndexMatchesCache(t testing.TB, m *Memory) {
	t.Helper()
	held := map[slot]bool{}
	m.tab.each(func(o *Object) {
		held[slot{obj: o}] = true
	})

	m.mu.Lock()
	defer m.mu.Unlock()
	indexed := map[slot]bool{}
	var bytes int64
	wantTags := map[tagRef]bool{}
	m.idx.byURL.Ascend(func(s slot) bool {
		indexed[s] = true
		bytes += s.obj.Cost()
		for _, tag := range s.obj.Tags.List() {
			wantTags[tagRef{tag: tag, obj: s.obj}] = true
		}
		return true
	})
	for s := range held {
		if !indexed[s] {
			t.Errorf("the table holds %q (%p) but the index does not", s.obj.Key, s.obj)
		}
	}
	for s := range indexed {
		if !held[s] {
			t.Errorf("index holds %q (%p) but the table does not", s.obj.Key, s.obj)
		}
	}
	gotTags := 0
	m.idx.byTag.Ascend(func(r tagRef) bool {
		gotTags++
		if !wantTags[r] {
			t.Errorf("tag index holds %q -> %q (%p) for no indexed object", r.tag, r.obj.Key, r.obj)
		}
		return true
	})
	if gotTags != len(wantTags) {
		t.Errorf("tag index has %d entries, want %d", gotTags, len(wantTags))
	}
	if m.idx.objects != int64(len(indexed)) || m.idx.bytes != bytes {
		t.Errorf("index counts %d objects / %d bytes, want %d / %d", m.idx.objects, m.idx.bytes, len(indexed), bytes)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
