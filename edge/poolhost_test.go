package edge

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// TestNode_poolHostReachesTheOrigin: a pool's host (origins.<name>.host) replaces the Host
// the origin receives, on pass and on a fill, now that the node writes Host as a field of
// its own head (writeRequest). Without origin.Pool.Do setting it as a field, the client's
// Host went through.
func TestNode_poolHostReachesTheOrigin(t *testing.T) {
	var mu sync.Mutex
	got := map[string]string{}
	o := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got[r.URL.Path] = r.Host
		mu.Unlock()
		w.Header().Set("Cache-Control", "max-age=60")
		fmt.Fprint(w, "ok")
	})
	yaml := strings.Replace(oneRoute(true, o.URL), "  o:\n", "  o:\n    host: backend.internal\n", 1)
	yaml = strings.Replace(yaml, "routes:\n", "routes:\n  - {match: {path_prefix: /pass/}, origin: o, cache: false}\n", 1)
	n := startNode(t, yaml, Options{})
	for _, path := range []string{"/pass/p", "/static/s.css"} {
		if status, _, _ := get(t, "http://"+n.HTTPAddr()+path, "Host", "site.test"); status != 200 {
			t.Fatalf("%s: %d", path, status)
		}
		mu.Lock()
		h := got[path]
		mu.Unlock()
		if h != "backend.internal" {
			t.Errorf("%s: the origin got Host %q, want the pool's", path, h)
		}
	}
}
