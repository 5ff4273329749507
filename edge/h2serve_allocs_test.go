package edge

import (
	"testing"

	"github.com/shoal-cdn/shoal/edge/h2"
)

// TestH2Serve_hitAllocatesNothing: an HTTP/2 fresh hit from memory allocates nothing in the
// node's handler: the fresh-hit probe borrows its target, key and request view from a
// scratch as the pipeline does, and Content-Length is an interned string (it was 4
// allocations: two target strings and the key in the probe, the length's digits), for a
// GET, a GET with a query and browser fields, and a HEAD.
func TestH2Serve_hitAllocatesNothing(t *testing.T) {
	h, base := h2HitHandler(t)
	browser := *base
	browser.Path = "/1k.bin"
	browser.Fields = []h2.Field{{Name: "user-agent", Value: "Mozilla/5.0"}, {Name: "accept", Value: "*/*"},
		{Name: "accept-encoding", Value: "gzip, deflate, br"}, {Name: "accept-language", Value: "en"},
		{Name: "cookie", Value: "a=1"}}
	head := *base
	head.Method = "HEAD"
	for _, tt := range []struct {
		name string
		req  *h2.Request
	}{{"GET", base}, {"browser fields", &browser}, {"HEAD", &head}} {
		t.Run(tt.name, func(t *testing.T) {
			w := &respondRecorder{}
			allocs := testing.AllocsPerRun(200, func() {
				*w = respondRecorder{}
				h.ServeH2(w, tt.req)
				if w.status != 200 || w.detached {
					t.Fatalf("not an inline hit: status %d, detached %v", w.status, w.detached)
				}
			})
			if raceEnabled {
				t.Logf("%.0f allocations per hit under -race (not checked)", allocs)
				return
			}
			if allocs != 0 {
				t.Errorf("%.2f allocations per HTTP/2 hit, want 0", allocs)
			}
		})
	}
}
