package edge

import (
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
