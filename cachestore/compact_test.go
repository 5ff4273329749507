package cachestore

import (
	"bytes"
	"strings"
	"testing"
	"unsafe"

	"github.com/shoal-cdn/shoal/httpcache"
)

// TestObject_compactReadsTheSame: every shape the edge stores (key = URL, a variant's key
// that starts with its URL, a URL apart from its key, no header, no body) reads the same
// after Compact, and Cost charges what the heap holds: one allocation for what moved, the
// body by its capacity as before.
func TestObject_compactReadsTheSame(t *testing.T) {
	url := "http://127.0.0.1:18201/1k.bin?o=1"
	header := httpcache.Pack(nginxFields[:])
	tests := []struct {
		name      string
		obj       *Object
		wantMoved int // bytes in the one allocation
	}{
		{"key = URL", &Object{Key: url, URL: url, Header: header, Body: make([]byte, 1024)}, len(url) + len(header)},
		{"variant key", &Object{Key: url + "\x00gzip", URL: url, Header: header, Body: make([]byte, 100)}, len(url) + 5 + len(header)},
		{"URL apart from the key", &Object{Key: "k:" + url, URL: strings.Clone(url), Header: header, Body: []byte("x")}, 2 + 2*len(url) + len(header)},
		{"body with spare capacity", &Object{Key: url, URL: url, Header: header, Body: make([]byte, 100, 4000)}, len(url) + len(header)},
		{"no body", &Object{Key: url, URL: url, Header: header}, len(url) + len(header)},
		{"no header", &Object{Key: url, URL: url, Body: []byte("abc")}, len(url)},
		{"no URL", &Object{Key: url, Header: header}, len(url) + len(header)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.obj
			key, u, h, body := strings.Clone(o.Key), strings.Clone(o.URL), strings.Clone(string(o.Header)), bytes.Clone(o.Body)
			bodyCap := cap(o.Body)
			before := o.Cost()
			o.Compact()
			if o.Key != key || o.URL != u || string(o.Header) != h || !bytes.Equal(o.Body, body) {
				t.Fatalf("after Compact: %q %q %q, want %q %q %q", o.Key, o.URL, o.Header, key, u, h)
			}
			if h != "" && o.Header.Get("ETag") != `"692bea52-400"` {
				t.Fatalf("packed header reads ETag %q", o.Header.Get("ETag"))
			}
			if got := int(o.packed); got != tc.wantMoved {
				t.Fatalf("moved %d bytes, want %d", got, tc.wantMoved)
			}
			want := int64(allocSize(tc.wantMoved)+allocSize(bodyCap)) + objectOverhead
			if got := o.Cost(); got != want || got > before {
				t.Fatalf("Cost = %d, want %d (%d before Compact)", got, want, before)
			}
			o.Compact() // twice: nothing moves again
			if o.Cost() != want || o.Key != key {
				t.Fatalf("a second Compact changed the object")
			}
		})
	}
}

// TestObject_compactHoldsOneAllocation: after Compact the key, URL and header are one heap
// object (edgeObject compacts).
func TestObject_compactHoldsOneAllocation(t *testing.T) {
	o := edgeObject(1, 1024)
	base := uintptr(unsafe.Pointer(unsafe.StringData(o.Key)))
	end := base + uintptr(o.packed)
	for name, p := range map[string]*byte{"URL": unsafe.StringData(o.URL), "Header": unsafe.StringData(string(o.Header))} {
		if a := uintptr(unsafe.Pointer(p)); a < base || a >= end {
			t.Errorf("%s is outside the compacted allocation", name)
		}
	}
}
