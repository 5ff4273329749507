package disk

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad feeds arbitrary bytes to the loader as the newest segment and as the ban log: a
// damaged file must never panic, and whatever is served must be a record that was written.
func FuzzLoad(f *testing.F) {
	seedDir := f.TempDir()
	d, _ := open(f, Config{Path: seedDir, Size: 16 << 20})
	for i := range 3 {
		r := rec(keyN(i), 100*i)
		r.Tags = []string{"t"}
		d.Put(r)
	}
	d.AddBan(Ban{Kind: BanTag, Value: "x", Soft: true})
	d.Close()
	segs, _ := filepath.Glob(filepath.Join(seedDir, "*"+segmentExt))
	seg, _ := os.ReadFile(segs[0])
	bans, _ := os.ReadFile(filepath.Join(seedDir, banLogName))
	f.Add(seg, bans)
	f.Add(seg[:len(seg)/2], bans[:len(bans)/2])
	f.Add([]byte{}, []byte{})
	f.Fuzz(func(t *testing.T, seg, bans []byte) {
		dir := t.TempDir()
		os.WriteFile(segmentPath(dir, 1), seg, 0o644)
		os.WriteFile(filepath.Join(dir, banLogName), bans, 0o644)
		d, _ := open(t, Config{Path: dir, Size: 16 << 20})
		defer d.Close()
		for i := range 3 {
			if h, err := d.Get(keyN(i)); err == nil {
				checkHandle(t, h, keyN(i), 100*i)
				h.Close()
			}
		}
	})
}
