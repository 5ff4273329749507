package disk

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// zipfHitRatio runs a trace through a tier of room for about 1,100 of 20,000 objects: a
// warm-up of 8,000 requests following Zipf(s=1.1) over the 20,000, then 16,000 requests of
// which half follow the same Zipf and half are a scan of keys each asked once. A miss fills
// (Put). It returns the Zipf requests' hit ratio during the scan, and the share of the
// objects held at the end that are scan keys.
func zipfHitRatio(t *testing.T, admitFrequency int) (ratio, scanHeld float64) {
	d, _ := open(t, Config{Path: t.TempDir(), Size: 1200 << 10, SegmentSize: 64 << 10, AdmitFrequency: admitFrequency})
	defer d.Close()
	rng := rand.New(rand.NewPCG(7, 11))
	zipf := rand.NewZipf(rng, 1.1, 1, 20000-1)
	const requests, warmup = 24000, 8000
	hits, asked, scan := 0, 0, 0
	for i := range requests {
		var key string
		zipfReq := i < warmup || rng.IntN(2) == 0
		if zipfReq {
			key = fmt.Sprintf("z%d", zipf.Uint64())
		} else {
			key = fmt.Sprintf("scan%d", scan)
			scan++
		}
		h, err := d.Get(key)
		if err == nil {
			h.Close()
		} else {
			d.Put(Record{Key: key, Body: make([]byte, 1000)})
			d.Wait()
		}
		if zipfReq && i >= warmup {
			asked++
			if err == nil {
				hits++
			}
		}
	}
	held := 0
	for i := range scan {
		if h, err := d.Get(fmt.Sprintf("scan%d", i)); err == nil {
			h.Close()
			held++
		}
	}
	return float64(hits) / float64(asked), float64(held) / float64(d.Stats().Objects)
}

func TestDisk_admissionKeepsHotSetThroughScan(t *testing.T) {
	with, scanWith := zipfHitRatio(t, 0) // default: TinyLFU, frequency 2
	without, scanWithout := zipfHitRatio(t, -1)
	t.Logf("Zipf(1.1) hit ratio, half the requests a one-hit scan: TinyLFU %.3f (scan keys %.0f%% of objects held), admit-all %.3f (%.0f%%)",
		with, 100*scanWith, without, 100*scanWithout)
	if with < without+0.05 || scanWith > 0.15 {
		t.Fatalf("TinyLFU: hit ratio %.3f vs admit-all's %.3f, scan keys %.2f of what is held", with, without, scanWith)
	}
}

func TestAdmission_doorkeeperAbsorbsFirstSighting(t *testing.T) {
	a := newAdmission(4096)
	if got := a.estimate("k"); got != 0 {
		t.Fatalf("unseen: %d", got)
	}
	a.touch("k")
	if got := a.estimate("k"); got != 1 {
		t.Fatalf("seen once: %d, want 1 (the doorkeeper's bit)", got)
	}
	for range 20 {
		a.touch("k")
	}
	if got := a.estimate("k"); got != 16 {
		t.Fatalf("seen 21 times: %d, want 16 (15, the cap, plus the doorkeeper)", got)
	}
	for i := range a.window { // one window of other keys ages it
		a.touch(fmt.Sprint(i))
	}
	if got := a.estimate("k"); got > 8 {
		t.Fatalf("after a window: %d, want halved", got)
	}
}
