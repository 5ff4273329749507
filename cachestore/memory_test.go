package cachestore

import (
	"bytes"
	"strings"
	"testing"

	"github.com/shoal-cdn/shoal/httpcache"
)

func TestMemory_SetThenGet(t *testing.T) {
	m := newTestMemory(t, Config{})
	o := object("http://h/a", "", "t")
	mustSet(t, m, o)
	if _, ok := m.Get("http://h/missing"); ok {
		t.Fatal("Get of a key never set found something")
	}
	st := m.Stats()
	want := Stats{Objects: 1, Bytes: o.Cost(), Hits: 1, Misses: 1}
	if st != want {
		t.Fatalf("Stats = %+v, want %+v", st, want)
	}
	checkIndexMatchesCache(t, m)
}

func TestMemory_SetRefusesObjectsLargerThanTheBudget(t *testing.T) {
	m := newTestMemory(t, Config{MaxBytes: 4096})
	o := object("http://h/big", "")
	o.Body = bytes.Repeat([]byte("x"), 8192)
	if m.Set(o) {
		t.Fatal("Set of an object larger than MaxBytes succeeded")
	}
	if st := m.Stats(); st.Rejected != 1 || st.Objects != 0 {
		t.Fatalf("Stats = %+v, want 1 rejected and nothing stored", st)
	}
}

func TestMemory_ReplacingAnObjectKeepsOnlyTheNewOne(t *testing.T) {
	m := newTestMemory(t, Config{})
	old := object("http://h/a", "", "old-tag")
	fresh := object("http://h/a", "", "new-tag")
	mustSet(t, m, old)
	mustSet(t, m, fresh)
	checkIndexMatchesCache(t, m)
	if n := m.PurgeTag("old-tag", false); n != 0 {
		t.Fatalf("PurgeTag of the replaced object's tag purged %d, want 0", n)
	}
	if got, _ := m.Get("http://h/a"); got != fresh {
		t.Fatal("the fresh object did not survive a purge of the replaced object's tag")
	}
	if st := m.Stats(); st.Objects != 1 || st.Bytes != fresh.Cost() {
		t.Fatalf("Stats = %+v, want one object of %d bytes", st, fresh.Cost())
	}
}

func TestMemory_DelRemovesObjectAndIndexEntries(t *testing.T) {
	m := newTestMemory(t, Config{})
	mustSet(t, m, object("http://h/a", "", "t"))
	m.Del("http://h/a")
	if _, ok := m.Get("http://h/a"); ok {
		t.Fatal("Get after Del found the object")
	}
	checkIndexMatchesCache(t, m)
	if st := m.Stats(); st.Objects != 0 || st.Bytes != 0 {
		t.Fatalf("Stats after Del = %+v, want empty", st)
	}
}

func TestMemory_VaryRecordLivesAsLongAsTheURLsObjects(t *testing.T) {
	m := newTestMemory(t, Config{})
	url := "http://h/v"
	m.SetVary(url, []string{"Accept-Encoding"})
	mustSet(t, m, object(url, "#gzip"))
	mustSet(t, m, object(url, "#br"))
	if names, ok := m.Vary(url); !ok || len(names) != 1 || names[0] != "Accept-Encoding" {
		t.Fatalf("Vary = %v, %v; want [Accept-Encoding]", names, ok)
	}
	m.Del(url + "#gzip")
	if _, ok := m.Vary(url); !ok {
		t.Fatal("Vary record dropped while a variant is still stored")
	}
	m.Del(url + "#br")
	// Kept, as one of the bounded orphans (vary.go), until a purge of the URL.
	if _, ok := m.Vary(url); !ok {
		t.Fatal("Vary record dropped when the last variant left")
	}
	m.PurgeURL(url, false)
	if _, ok := m.Vary(url); ok {
		t.Fatal("Vary record kept after a purge of its URL")
	}
}

func TestObject_Cost(t *testing.T) {
	key := "http://h/a\x00gzip" // a variant's key: the URL, then the secondary key
	tests := []struct {
		name string
		obj  *Object
		want int64
	}{
		{"empty", &Object{}, objectOverhead},
		{"body and key", &Object{Key: "k", URL: "u", Body: make([]byte, 1000)}, 1024 + 8 + 8 + objectOverhead},
		{"body by its capacity", &Object{Body: make([]byte, 1000, 1100)}, 1152 + objectOverhead},
		{"URL sharing the key's bytes is charged once", &Object{Key: key, URL: key[:10]}, 16 + objectOverhead},
		{"URL apart from the key is charged", &Object{Key: key, URL: strings.Clone(key[:10])}, 16 + 16 + objectOverhead},
		{"Key equal to URL, one string", &Object{Key: key, URL: key}, 16 + objectOverhead},
		// One string: the width byte, the count, a name code and two offsets (2 B each), "A", "bc".
		{"header, packed", &Object{Header: httpcache.Pack(httpcache.Header{{Name: "A", Value: "bc"}})}, 16 + objectOverhead},
		{"header of 8 fields, one allocation", &Object{Header: httpcache.Pack(nginxFields[:])}, 192 + objectOverhead}, // 181 B: names coded
		{"tags", &Object{Tags: NewTags("ab", "c")}, 32 + 3 + 2*tagOverhead + objectOverhead},                          // the slice header by allocSize
		{"meta", &Object{Meta: &Meta{}}, 48 + objectOverhead},
		{"meta's field lists", &Object{Meta: NewMeta(httpcache.StoreDecision{NoCacheFields: []string{"Set-Cookie"}}, nil)}, 48 + 48 + 16 + 16 + objectOverhead},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.obj.Cost(); got != tc.want {
				t.Fatalf("Cost = %d, want %d", got, tc.want)
			}
		})
	}
}

// TestAllocSize follows the runtime's size classes to within one step, and never charges a
// large body more than a page.
func TestAllocSize(t *testing.T) {
	tests := []struct{ n, want int }{
		{0, 0}, {1, 8}, {8, 8}, {9, 16}, {16, 16}, {17, 32}, {38, 48}, {100, 112}, {128, 128},
		{184, 192}, {232, 240}, {256, 256}, {257, 288}, {1000, 1024}, {1024, 1024}, {1025, 1152},
		{32 << 10, 32 << 10}, {32<<10 + 1, 40 << 10}, {1 << 20, 1 << 20}, {1<<20 + 1, 1<<20 + 8<<10},
	}
	for _, tc := range tests {
		if got := allocSize(tc.n); got != tc.want {
			t.Errorf("allocSize(%d) = %d, want %d", tc.n, got, tc.want)
		}
	}
}

func TestConfig_Defaults(t *testing.T) {
	tests := []struct {
		name string
		in   Config
		want Config
	}{
		{"zero", Config{}, Config{MaxBytes: 256 << 20, Name: "main"}},
		{"explicit values kept", Config{MaxBytes: 5, Name: "hot"}, Config{MaxBytes: 5, Name: "hot"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Field by field: Config holds a func (OnEvict), which != cannot compare.
			if got := tc.in.withDefaults(); got.MaxBytes != tc.want.MaxBytes || got.Name != tc.want.Name {
				t.Fatalf("withDefaults = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestMemory_CloseMakesWritesNoOps(t *testing.T) {
	m, err := NewMemory(Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	mustSet(t, m, object("http://h/a", ""))
	m.Close()
	if m.Set(object("http://h/b", "")) {
		t.Fatal("Set after Close succeeded")
	}
	m.Del("http://h/a")
	if n := m.PurgeAll(false); n != 0 {
		t.Fatalf("PurgeAll after Close = %d, want 0", n)
	}
	m.Close() // a second Close is harmless
}

// TestMemory_SetSameObjectAgain stores one object twice: the second Set replaces nothing (the
// object it would replace is itself), and the index must still hold it.
func TestMemory_SetSameObjectAgain(t *testing.T) {
	for _, wait := range []bool{false, true} {
		m := newTestMemory(t, Config{})
		o := object("http://h/a", "", "t")
		if !m.Set(o) {
			t.Fatal("first Set refused")
		}
		if wait {
		}
		if !m.Set(o) {
			t.Fatal("second Set refused")
		}
		if got, ok := m.Get(o.Key); !ok || got != o {
			t.Fatalf("wait=%v: Get = %v, %v; want the object", wait, got, ok)
		}
		checkIndexMatchesCache(t, m)
		if n := m.PurgeURL("http://h/a", false); n != 1 {
			t.Fatalf("wait=%v: PurgeURL = %d, want 1", wait, n)
		}
		if _, ok := m.Get(o.Key); ok {
			t.Fatalf("wait=%v: the object survived its purge", wait)
		}
	}
}
