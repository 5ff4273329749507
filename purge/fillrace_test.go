package purge

import (
	"testing"

	"github.com/shoal-cdn/shoal/cachestore"
)

// TestService_purgeDuringFillRefusesTheFill plays the cluster purge/fill race step by step
// with the real store: a fill starts (Begin) on a peer, a purge reaches that peer through the
// fan-out, and the fill's response arrives afterwards. The old object must not come back.
func TestService_purgeDuringFillRefusesTheFill(t *testing.T) {
	tests := []struct {
		name      string
		req       Request
		wantStore bool // Set succeeds
		wantSoft  bool // and the object is marked stale
	}{
		{"hard url purge", Request{Kind: KindURL, Value: cssURL}, false, false},
		{"hard key purge", Request{Kind: KindKey, Value: "css"}, false, false},
		{"hard prefix purge", Request{Kind: KindPrefix, Value: "http://www.example.com/"}, false, false},
		{"hard purge of all", Request{Kind: KindAll}, false, false},
		{"soft url purge", Request{Kind: KindURL, Value: cssURL, Soft: true}, true, true},
		{"purge of another url", Request{Kind: KindURL, Value: "http://www.example.com/b.css"}, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nodes := newCluster(t, newFakeClock(), "edge-1", "edge-2")
			peerStore := nodes[1].store

			gen := peerStore.Begin() // edge-2 starts filling a.css
			resp := purgeOrFail(t, nodes[0].svc, tt.req)
			if len(resp.Missing) != 0 {
				t.Fatalf("edge-2 missed the purge: %+v", resp)
			}
			filled := &cachestore.Object{Key: cssURL, URL: cssURL, Status: 200, Body: []byte("old"), Tags: cachestore.NewTags("css"), Generation: gen}

			if got := peerStore.Set(filled); got != tt.wantStore {
				t.Fatalf("Set of the fill begun before the purge = %v, want %v", got, tt.wantStore)
			}
			if tt.wantStore {
				o, ok := peerStore.Get(cssURL)
				if !ok || o.SoftPurged() != tt.wantSoft {
					t.Errorf("stored %v, soft-purged %v; want soft-purged %v", ok, ok && o.SoftPurged(), tt.wantSoft)
				}
			}
			// A fill that begins after the purge stores normally.
			fresh := &cachestore.Object{Key: cssURL, URL: cssURL, Status: 200, Body: []byte("new"), Generation: peerStore.Begin()}
			if !peerStore.Set(fresh) {
				t.Error("a fill begun after the purge was refused")
			}
		})
	}
}
