package disk

import (
	"bytes"
	"testing"
	"time"
)

// PutFrom refreshes a record's head and times with the body copied from the record itself:
// the new head is served, the body is byte-exact, before and after a restart; a ban made
// since the refresh's fill started refuses it.
func TestDisk_PutFromRefreshesTheHeadAndKeepsTheBody(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{Path: dir, Size: 64 << 20, SegmentSize: 4 << 20}
	d, _ := open(t, cfg)
	for _, n := range []int{0, 1, 300 << 10, 3 << 20} {
		key := "k" + string(rune('a'+n%26))
		d.Put(rec(key, n))
		d.Wait()
		h, err := d.Get(key)
		if err != nil {
			t.Fatal(err)
		}
		r := rec(key, 0)
		r.Head = []byte("refreshed " + key)
		r.Expires = time.Now().Add(2 * time.Hour)
		if !d.PutFrom(r, h) {
			t.Fatalf("%s: PutFrom refused", key)
		}
		d.Wait()
		for round := range 2 {
			h, err := d.Get(key)
			if err != nil {
				t.Fatalf("%s round %d: %v", key, round, err)
			}
			got := make([]byte, h.BodyLength())
			h.ReadAt(got, 0)
			if !bytes.Equal(h.Head, r.Head) || !bytes.Equal(got, body(key, n)) || !h.Expires.Equal(time.Unix(0, r.Expires.UnixNano())) {
				t.Errorf("%s round %d: head %q, %d body bytes (want %d), expires %v", key, round, h.Head, len(got), n, h.Expires)
			}
			h.Close()
			if round == 0 {
				d.Close()
				d, _ = open(t, cfg)
			}
		}
	}
	// A purge during the revalidation's fill refuses the refreshed record.
	d.Put(rec("banned", 1000))
	d.Wait()
	gen := d.Begin()
	h, _ := d.Get("banned")
	d.AddBan(Ban{Kind: BanKey, Value: "banned"})
	r := rec("banned", 0)
	r.Generation = gen
	d.PutFrom(r, h)
	d.Wait()
	if _, err := d.Get("banned"); err == nil {
		t.Error("a refresh from before a ban was served")
	}
	d.Close()
}
