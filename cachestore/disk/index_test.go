package disk

import (
	"slices"
	"testing"
)

// invariant checks that the index's secondary orders hold exactly what byKey serves.
func (x *objIndex) invariant(t *testing.T) {
	t.Helper()
	if x.sorted.Len() != len(x.byKey) {
		t.Fatalf("sorted holds %d, byKey %d", x.sorted.Len(), len(x.byKey))
	}
	x.sorted.Ascend(func(e *entry) bool {
		if x.byKey[e.key] != e {
			t.Fatalf("sorted holds a stale entry for %q", e.key)
		}
		return true
	})
	for tag, s := range x.byTag {
		for e := range s {
			if x.byKey[e.key] != e || !slices.Contains(e.tags, tag) {
				t.Fatalf("tag %q holds a stale entry for %q", tag, e.key)
			}
		}
	}
	for e := range x.odd {
		if x.byKey[e.key] != e {
			t.Fatalf("odd holds a stale entry for %q", e.key)
		}
	}
}

func TestObjIndex_candidatesFindEveryMatch(t *testing.T) {
	x := newObjIndex()
	mk := func(key, url string, tags ...string) *entry {
		e := &entry{key: key, urlv: url, tags: tags}
		x.put(e)
		return e
	}
	mk("http://h/a.css", "")                             // URL is the key
	mk("http://h/a.css\x00gzip", "http://h/a.css", "t1") // a variant
	mk("http://h/a.css2", "", "t1")                      // shares the prefix, another URL
	mk("variant:http://h/a.css", "http://h/a.css", "t2") // odd: URL is not a prefix of the key
	mk("http://h/b/c", "", "t2")
	replaced := mk("http://h/b/d", "", "t1")
	mk("http://h/b/d", "", "t3") // replaces it: its tag t1 must go
	if x.len() != 6 {
		t.Fatalf("len %d", x.len())
	}
	x.invariant(t)
	for _, tc := range []struct {
		ban  Ban
		want []string
	}{
		{Ban{Kind: BanURL, Value: "http://h/a.css"}, []string{"http://h/a.css", "http://h/a.css\x00gzip", "variant:http://h/a.css"}},
		{Ban{Kind: BanPrefix, Value: "http://h/b/"}, []string{"http://h/b/c", "http://h/b/d"}},
		{Ban{Kind: BanPrefix, Value: "http://h/a"}, []string{"http://h/a.css", "http://h/a.css\x00gzip", "http://h/a.css2", "variant:http://h/a.css"}},
		{Ban{Kind: BanTag, Value: "t1"}, []string{"http://h/a.css\x00gzip", "http://h/a.css2"}},
		{Ban{Kind: BanTag, Value: "t3"}, []string{"http://h/b/d"}},
		{Ban{Kind: BanKey, Value: "http://h/b/c"}, []string{"http://h/b/c"}},
		{Ban{Kind: BanAll}, []string{"http://h/a.css", "http://h/a.css\x00gzip", "http://h/a.css2", "variant:http://h/a.css", "http://h/b/c", "http://h/b/d"}},
	} {
		tc.ban.Generation = 1
		var got []string
		x.candidates(&tc.ban, func(e *entry) {
			if tc.ban.matches(e) {
				got = append(got, e.key)
			}
		})
		slices.Sort(got)
		slices.Sort(tc.want)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%v %q: matched %q, want %q", tc.ban.Kind, tc.ban.Value, got, tc.want)
		}
	}
	if x.remove(replaced) {
		t.Fatal("removing a replaced entry must do nothing")
	}
	for _, k := range []string{"http://h/a.css", "http://h/b/d", "variant:http://h/a.css"} {
		if !x.remove(x.get(k)) {
			t.Fatalf("remove %q", k)
		}
	}
	x.invariant(t)
}

// KeysWithPrefix finds the keys under a prefix in order, up to the limit, and nothing of a
// longer or shorter neighbour.
func TestDisk_KeysWithPrefix(t *testing.T) {
	d, _ := open(t, Config{Path: t.TempDir(), Size: 16 << 20})
	defer d.Close()
	for _, k := range []string{"http://h/a", "http://h/a\x00lang=2:en\n", "http://h/a\x00lang=2:fr\n", "http://h/ab", "http://h/a\x00", "http://h/"} {
		d.Put(rec(k, 10))
	}
	d.Wait()
	for _, c := range []struct {
		prefix string
		limit  int
		want   []string
	}{
		{"http://h/a\x00", 8, []string{"http://h/a\x00", "http://h/a\x00lang=2:en\n", "http://h/a\x00lang=2:fr\n"}},
		{"http://h/a\x00", 1, []string{"http://h/a\x00"}},
		{"http://h/b", 8, nil},
		{"http://h/a\x00", 0, nil},
	} {
		if got := d.KeysWithPrefix(c.prefix, c.limit); !slices.Equal(got, c.want) {
			t.Errorf("KeysWithPrefix(%q, %d) = %q, want %q", c.prefix, c.limit, got, c.want)
		}
	}
}
