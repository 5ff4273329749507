package edge

import (
	"encoding/binary"
	"testing"

	"github.com/shoal-cdn/shoal/httpcache"
)

func TestDiskHead_roundTrip(t *testing.T) {
	cases := []struct {
		status int
		h      httpcache.Header
	}{
		{200, nil},
		{404, httpcache.Header{{Name: "Cache-Control", Value: "max-age=60"}}},
		{200, httpcache.Header{{Name: "set-COOKIE-ish", Value: ""}, {Name: "Vary", Value: "Accept-Encoding"}, {Name: "Vary", Value: "Origin"}}},
		{301, httpcache.Header{{Name: "Location", Value: string(make([]byte, 70000))}}},
	}
	for _, tc := range cases {
		status, h, err := decodeHead(encodeHead(tc.status, tc.h))
		if err != nil || status != tc.status || len(h) != len(tc.h) {
			t.Fatalf("%d %v: got %d %v %v", tc.status, tc.h, status, h, err)
		}
		for i := range h {
			if h[i] != tc.h[i] {
				t.Errorf("field %d: %q, want %q (order and case kept)", i, h[i], tc.h[i])
			}
		}
	}
}

// A damaged head (the record's checksum guards the disk, but never trust a file) is an
// error, never a panic: every truncation and a few bad bytes.
func TestDiskHead_damagedIsAnError(t *testing.T) {
	good := encodeHead(200, httpcache.Header{{Name: "ETag", Value: `"v1"`}, {Name: "Cache-Control", Value: "max-age=60"}})
	for i := range len(good) {
		if _, _, err := decodeHead(good[:i]); err == nil {
			t.Errorf("truncated to %d bytes: no error", i)
		}
	}
	for _, bad := range [][]byte{{2, 200, 1, 0}, {1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, {1, 99, 0}, append(append([]byte{}, good...), 0)} {
		if _, _, err := decodeHead(bad); err == nil {
			t.Errorf("%x: no error", bad)
		}
	}
}

func FuzzDiskHead(f *testing.F) {
	f.Add(encodeHead(200, httpcache.Header{{Name: "A", Value: "b"}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		status, h, err := decodeHead(b)
		if err != nil {
			return
		}
		if again, h2, err := decodeHead(encodeHead(status, h)); err != nil || again != status || len(h2) != len(h) {
			t.Fatalf("re-encoding %x changed it", b)
		}
	})
}

// uvarint reads a string as binary.Uvarint reads bytes: every length, the overflow cases.
func TestUvarint_asBinaryUvarint(t *testing.T) {
	cases := [][]byte{{}, {0}, {1}, {0x7f}, {0x80}, {0x80, 1}, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1},
		{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2}, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
		{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1}, {0x80, 0x80, 0x80}, binary.AppendUvarint(nil, 1<<63)}
	for _, b := range cases {
		v, k := uvarint(string(b))
		wv, wk := binary.Uvarint(b)
		if v != wv || k != wk {
			t.Errorf("%x: %d, %d; binary.Uvarint %d, %d", b, v, k, wv, wk)
		}
	}
}

// A disk hit that decodes its record's head (its decoding not kept, diskmeta.go) allocates
// the field list only: the names and values are slices of the Handle's Head. Before, each
// name and value was a string of its own.
func TestDecodeHandleHead_allocatesTheFieldListOnly(t *testing.T) {
	h := httpcache.Header{{Name: "Cache-Control", Value: "max-age=3600"}, {Name: "Content-Type", Value: "application/octet-stream"},
		{Name: "ETag", Value: `"v1"`}, {Name: "Last-Modified", Value: "Sat, 21 Nov 2026 10:00:00 GMT"}}
	b := encodeHead(200, h)
	status, got, err := decodeHandleHead(b)
	if err != nil || status != 200 || len(got) != len(h) {
		t.Fatalf("%d %v %v", status, got, err)
	}
	for i := range h {
		if got[i] != h[i] {
			t.Errorf("field %d: %q, want %q", i, got[i], h[i])
		}
	}
	if n := testing.AllocsPerRun(100, func() { decodeHandleHead(b) }); n != 1 {
		t.Errorf("%v allocations, want 1 (the field list)", n)
	}
}
