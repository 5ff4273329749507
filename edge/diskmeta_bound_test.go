package edge

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// A decoding whose head is over diskMetaMaxHead is not kept (the table is outside the
// store's budget), and its hits are still whole and carry the whole head; one under it is
// kept, so the count below can fail.
func TestDiskTier_largeHeadsAreNotKept(t *testing.T) {
	want := largeBody(3 << 20)
	pad := strings.Repeat("p", diskMetaMaxHead+1)
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=600")
		if r.URL.Path == "/padded" {
			w.Header().Set("X-Pad", pad)
		}
		w.Header().Set("Content-Length", fmt.Sprint(len(want)))
		w.Write(want)
	})
	n, _ := largeDiskNode(t, origin.URL, "")
	kept := func() int {
		k := 0
		for i := range n.disk.metas.slots {
			if n.disk.metas.slots[i].Load() != nil {
				k++
			}
		}
		return k
	}
	for _, tc := range []struct {
		path     string
		wantKept int
	}{{"/padded", 0}, {"/plain", 1}} {
		url := "http://" + n.HTTPAddr() + tc.path
		getRange(t, url, "") // the fill
		n.settleDisk()
		for i := range 3 {
			resp, body := getRange(t, url, "")
			cs := resp.Header.Get("Cache-Status")
			if !bytes.Equal(body, want) || !strings.Contains(cs, "hit") || !strings.Contains(cs, "/disk") {
				t.Fatalf("%s, hit %d: %d bytes, Cache-Status %q; want a whole disk hit", tc.path, i, len(body), cs)
			}
			if tc.path == "/padded" && resp.Header.Get("X-Pad") != pad {
				t.Fatalf("%s, hit %d: X-Pad of %d bytes, want %d", tc.path, i, len(resp.Header.Get("X-Pad")), len(pad))
			}
		}
		if got := kept(); got != tc.wantKept {
			t.Errorf("after hits on %s: %d kept decodings, want %d", tc.path, got, tc.wantKept)
		}
	}
}
