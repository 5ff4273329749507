package disk

import (
	"io"
	"testing"
)

// An I/O error reading a record through a Handle turns the tier off, as one in Get does
// (TestDisk_eioDisables): the head by ReadHead after GetNoHead (every large disk hit of the
// edge since the heads are kept), and the body by ReadAt (the edge's small disk hits and the
// copy path). Before, both only returned the error: the edge went on to the origin on every
// request, the tier stayed on, and nothing was logged.
func TestHandle_readEIODisables(t *testing.T) {
	for _, tc := range []struct {
		name string
		read func(h *Handle) error
	}{
		{"ReadHead", func(h *Handle) error { _, err := h.ReadHead(); return err }},
		{"ReadAt", func(h *Handle) error { _, err := h.ReadAt(make([]byte, 100), 10); return err }},
		{"Body", func(h *Handle) error { _, err := io.ReadAll(h.Body()); return err }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := &faultFS{}
			d, reg := open(t, Config{Path: t.TempDir(), Size: 16 << 20, fs: fs})
			d.Put(rec("a", 1000))
			d.Wait()
			h, err := d.GetNoHead("a")
			if err != nil {
				t.Fatal(err)
			}
			fs.failReads.Store(true)
			if err := tc.read(h); err == nil {
				t.Fatal("a read on a failing disk returned no error")
			}
			h.Close()
			checkDisabled(t, d, gauge(t, reg, "shoal_cachestore_disk_disabled"))
		})
	}
}

// Reads a Handle may make without a fault do not turn the tier off: past the body's end
// (io.EOF), and after the record was evicted while the Handle held it.
func TestHandle_readsWithoutAFaultKeepTheTierOn(t *testing.T) {
	d, _ := open(t, Config{Path: t.TempDir(), Size: 16 << 20})
	defer d.Close()
	d.Put(rec("a", 1000))
	d.Wait()
	h, err := d.GetNoHead("a")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.ReadAt(make([]byte, 10), 5000); err != io.EOF {
		t.Errorf("ReadAt past the end: %v, want io.EOF", err)
	}
	if _, err := h.ReadAt(make([]byte, 2000), 0); err != io.EOF {
		t.Errorf("ReadAt over the end: %v, want io.EOF", err)
	}
	d.Delete("a")
	if _, err := h.ReadHead(); err != nil {
		t.Errorf("ReadHead of a record deleted while held: %v", err)
	}
	if _, err := io.ReadAll(h.Body()); err != nil {
		t.Errorf("reading a body deleted while held: %v", err)
	}
	h.Close()
	if d.Disabled() {
		t.Fatal("reads without a fault turned the tier off")
	}
}
