package disk

import (
	"bytes"
	"testing"
)

// GetNoHead serves the same record as Get without reading its head; ReadHead reads it on
// demand. Record names the stored record: the same for every Get of it, another for the
// key's next record, after a restart too (so a caller's decoded head never outlives it).
func TestHandle_recordAndHeadOnDemand(t *testing.T) {
	dir := t.TempDir()
	d, _ := open(t, Config{Path: dir, Size: 64 << 20})
	d.Put(rec("a", 100<<10))
	d.Wait()

	h1, err := d.Get("a")
	if err != nil {
		t.Fatal(err)
	}
	h2, err := d.GetNoHead("a")
	if err != nil {
		t.Fatal(err)
	}
	if h2.Head != nil {
		t.Errorf("GetNoHead read the head: %q", h2.Head)
	}
	if got, err := h2.ReadHead(); err != nil || !bytes.Equal(got, head("a")) || !bytes.Equal(h2.Head, head("a")) {
		t.Errorf("ReadHead: %q, %v; want %q", got, err, head("a"))
	}
	checkHandle(t, h2, "a", 100<<10)
	if h1.Record() != h2.Record() {
		t.Errorf("two Gets of one record: %+v and %+v", h1.Record(), h2.Record())
	}
	first := h1.Record()
	h1.Close()
	h2.Close()

	r := rec("a", 100<<10)
	r.Head = []byte("HTTP/1.1 200 OK\r\nX-Key: a, again\r\n\r\n")
	d.Put(r)
	d.Wait()
	h3, err := d.GetNoHead("a")
	if err != nil {
		t.Fatal(err)
	}
	if h3.Record() == first {
		t.Errorf("the key's new record has the old one's ID %+v", first)
	}
	if got, _ := h3.ReadHead(); !bytes.Equal(got, r.Head) {
		t.Errorf("new record's head %q, want %q", got, r.Head)
	}
	second := h3.Record()
	h3.Close()
	d.Close()

	// After a restart the first Get verifies the record and has its head anyway.
	d, _ = open(t, Config{Path: dir, Size: 64 << 20})
	defer d.Close()
	h4, err := d.GetNoHead("a")
	if err != nil {
		t.Fatal(err)
	}
	defer h4.Close()
	if h4.Record() != second || !bytes.Equal(h4.Head, r.Head) {
		t.Errorf("after a restart: record %+v head %q; want %+v and %q", h4.Record(), h4.Head, second, r.Head)
	}
}
