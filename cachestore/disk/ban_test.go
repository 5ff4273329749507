package disk

import (
	"errors"
	"testing"
	"time"
)

// banRecords writes six objects under two URLs, two prefixes and two tags.
func banRecords(d *Disk) {
	for _, r := range []struct{ key, url, tag string }{
		{"a1", "http://h/img/a", "product-1"},
		{"a2", "http://h/img/a", "product-2"}, // a second variant of the same URL
		{"b", "http://h/img/b", "product-1"},
		{"c", "http://h/css/c", "product-2"},
		{"d", "http://h/css/d", "product-3"},
		{"e", "http://h/js/e", "product-3"},
	} {
		x := rec(r.key, 100)
		x.URL, x.Tags = r.url, []string{r.tag}
		d.Put(x)
	}
	d.Wait()
}

func TestDisk_bansPersistAcrossRestart(t *testing.T) {
	all := []string{"a1", "a2", "b", "c", "d", "e"}
	for _, tc := range []struct {
		ban    Ban
		banned []string
	}{
		{Ban{Kind: BanTag, Value: "product-1"}, []string{"a1", "b"}},
		{Ban{Kind: BanURL, Value: "http://h/img/a"}, []string{"a1", "a2"}},
		{Ban{Kind: BanPrefix, Value: "http://h/css/"}, []string{"c", "d"}},
		{Ban{Kind: BanKey, Value: "a2"}, []string{"a2"}},
		{Ban{Kind: BanAll}, all},
		{Ban{Kind: BanTag, Value: "no-such-tag"}, nil},
	} {
		t.Run(tc.ban.Kind.String()+"/"+tc.ban.Value, func(t *testing.T) {
			dir := t.TempDir()
			cfg := Config{Path: dir, Size: 16 << 20}
			d, _ := open(t, cfg)
			banRecords(d)
			if n := d.AddBan(tc.ban); n != len(tc.banned) {
				t.Fatalf("AddBan removed %d, want %d", n, len(tc.banned))
			}
			check := func(when string) {
				isBanned := map[string]bool{}
				for _, k := range tc.banned {
					isBanned[k] = true
				}
				for _, k := range all {
					h, err := d.Get(k)
					if isBanned[k] {
						if err == nil {
							h.Close()
							t.Fatalf("%s: banned %s served", when, k)
						}
						continue
					}
					if err != nil {
						t.Fatalf("%s: %s not served: %v", when, k, err)
					}
					checkHandle(t, h, k, 100)
					h.Close()
				}
			}
			check("before restart")
			d.Close()
			d, _ = open(t, cfg)
			check("after restart")
			if bs := d.Bans(); len(bs) != 1 || bs[0].Kind != tc.ban.Kind || bs[0].Value != tc.ban.Value {
				t.Fatalf("Bans after restart: %+v", bs)
			}
			d.Close()
			d, _ = open(t, cfg) // the ban log survives its own compaction
			check("after a second restart")
			d.Close()
		})
	}
}

// A purge made while this node was down reaches it from a peer after the restart, while the
// index is still loading: the objects it matches are never served.
func TestDisk_peerBanWhileLoading(t *testing.T) {
	dir := t.TempDir()
	d, _ := open(t, Config{Path: dir, Size: 16 << 20})
	banRecords(d)
	d.Close()
	purgedAt := time.Now()

	fs := &faultFS{gate: make(chan struct{})}
	d, err := Open(Config{Path: dir, Size: 16 << 20, Logger: quietLogger(), fs: fs}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	d.AddBan(Ban{Kind: BanTag, Value: "product-3", Time: purgedAt})
	// A refill after the purge, made while loading, is not matched: it started after Time.
	refill := rec("d", 100)
	refill.URL, refill.Tags = "http://h/css/d", []string{"product-3"}
	refill.RequestTime = purgedAt.Add(time.Second)
	d.Put(refill)
	close(fs.gate)
	<-d.Loaded()
	d.Wait()
	if h, err := d.Get("e"); err == nil {
		h.Close()
		t.Fatal("object purged while down was served")
	}
	mustGet(t, d, "d", 100) // the refill
	mustGet(t, d, "c", 100)
}

// A fill that began before a ban is refused when it is written after it: the purge race.
func TestDisk_banRefusesFillStartedBefore(t *testing.T) {
	d, reg := open(t, Config{Path: t.TempDir(), Size: 16 << 20})
	defer d.Close()
	gen := d.Begin()
	d.AddBan(Ban{Kind: BanPrefix, Value: "http://www.example.com/"})
	old := rec("old", 100)
	old.Generation = gen
	d.Put(old)
	fresh := rec("fresh", 100)
	fresh.Generation = d.Begin()
	d.Put(fresh)
	d.Wait()
	if _, err := d.Get("old"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("fill from before the ban: %v, want refused", err)
	}
	mustGet(t, d, "fresh", 100)
	if v := gauge(t, reg, "shoal_cachestore_disk_refused_total"); v != 1 {
		t.Fatalf("refused_total %v", v)
	}
}

func TestDisk_deleteIsPersisted(t *testing.T) {
	dir := t.TempDir()
	d, _ := open(t, Config{Path: dir, Size: 16 << 20})
	d.Put(rec("a", 10))
	d.Wait()
	if n := d.Delete("a"); n != 1 {
		t.Fatalf("Delete removed %d", n)
	}
	d.Put(rec("a2", 10))
	d.Close()
	d, _ = open(t, Config{Path: dir, Size: 16 << 20})
	defer d.Close()
	if _, err := d.Get("a"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted key back after restart: %v", err)
	}
	mustGet(t, d, "a2", 10)
	// A Put after the Delete is served: its generation is not below the ban's.
	d.Put(rec("a", 20))
	d.Wait()
	mustGet(t, d, "a", 20)
}

// Bans leave the log once no record on disk is old enough to match them.
func TestDisk_reclaimCompactsBans(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{Path: dir, Size: 2 << 20, SegmentSize: 128 << 10, AdmitFrequency: -1}
	d, _ := open(t, cfg)
	d.maxBans = 64 // each ban is fsynced: keep the test short
	for i := range d.maxBans + 10 {
		d.Delete(keyN(i))
	}
	for i := range 100 { // 3 MiB through a 2 MiB tier: the segments from before the bans go
		d.Put(rec(keyN(i), 30<<10))
		d.Wait()
	}
	d.mu.RLock()
	n := len(d.banList)
	d.mu.RUnlock()
	if n > 64 {
		t.Fatalf("%d bans kept after every older record was reclaimed", n)
	}
	d.Close()
	d, _ = open(t, cfg)
	defer d.Close()
	mustGet(t, d, keyN(99), 30<<10) // the generation survived compaction: new records still load
	if d.Begin() < 64 {
		t.Fatalf("generation %d went back after compaction", d.Begin())
	}
}

// A soft ban marks instead of removing, across a restart too, and marks a fill that began
// before it.
func TestDisk_softBanMarksStale(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{Path: dir, Size: 16 << 20}
	d, _ := open(t, cfg)
	banRecords(d)
	gen := d.Begin()
	if n := d.AddBan(Ban{Kind: BanTag, Value: "product-1", Soft: true}); n != 2 {
		t.Fatalf("soft ban matched %d, want 2", n)
	}
	late := rec("late", 100)
	late.Tags, late.Generation = []string{"product-1"}, gen
	d.Put(late)
	d.Wait()
	check := func(when string) {
		for k, want := range map[string]bool{"a1": true, "b": true, "late": true, "c": false} {
			h, err := d.Get(k)
			if err != nil {
				t.Fatalf("%s: %s: %v (a soft ban must not remove)", when, k, err)
			}
			if h.SoftPurged != want {
				t.Fatalf("%s: %s SoftPurged %v, want %v", when, k, h.SoftPurged, want)
			}
			h.Close()
		}
	}
	check("before restart")
	d.Close()
	d, _ = open(t, cfg)
	defer d.Close()
	check("after restart")
}
