package edge

import (
	"net/http"
	"testing"
	"unsafe"

	"github.com/shoal-cdn/shoal/cachestore"
)

// A small object a disk hit copies back into memory is stored as a fill stores it: its key,
// URL and header compacted into one allocation (cachestore.Object.Compact), so memory holds
// it in the same bytes and heap objects as before it went to disk, and charges that (Cost),
// not the key and header apart.
func TestDiskTier_promotedObjectIsCompacted(t *testing.T) {
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=600")
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte("a small object the disk hit promotes"))
	})
	n, _ := largeDiskNode(t, origin.URL, "")
	url := "http://" + n.HTTPAddr() + "/small"
	if code, _, _ := get(t, url); code != 200 {
		t.Fatalf("fill: %d", code)
	}
	n.settleFills()
	n.settleDisk()
	if _, ok := n.Store().Get(url); !ok {
		t.Fatalf("the fill did not store %s in memory", url)
	}
	n.Store().Del(url)
	if code, _, body := get(t, url); code != 200 || body != "a small object the disk hit promotes" {
		t.Fatalf("disk hit: %d %q", code, body)
	}
	if got := origin.requests.Load(); got != 1 {
		t.Fatalf("origin asked %d times, want 1 (the second from disk)", got)
	}
	obj, ok := n.Store().Get(url)
	if !ok {
		t.Fatalf("the disk hit did not promote %s to memory", url)
	}
	checkCompacted(t, obj)
}

// checkCompacted fails unless obj's header follows its key in one allocation (Compact).
func checkCompacted(t *testing.T, obj *cachestore.Object) {
	t.Helper()
	key := uintptr(unsafe.Pointer(unsafe.StringData(obj.Key)))
	header := uintptr(unsafe.Pointer(unsafe.StringData(string(obj.Header))))
	if header != key+uintptr(len(obj.Key)) {
		t.Errorf("header at %#x, key at %#x (%d B): not compacted", header, key, len(obj.Key))
	}
}
