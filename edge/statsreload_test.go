package edge

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/shoal-cdn/shoal/conf"
	"github.com/shoal-cdn/shoal/origin"
)

// /stats' per-server requests, errors and mean latency were the counters of the pool object,
// and a reload (SIGHUP, POST /reload) builds every pool anew: each reload set them to 0 while
// /metrics' shoal_origin_requests_total kept counting, so a node reloaded by every deploy
// showed a server's traffic only since the last one. A server the new file still lists now
// keeps its counters, as it keeps its health (origin.Pool.Inherit).
func TestNode_statsServerCountersSurviveAReload(t *testing.T) {
	o := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/fail" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	yaml := "listen: {http: \"127.0.0.1:0\", admin: \"127.0.0.1:0\"}\n" + strings.Replace(oneRoute(false, o.URL), "    servers:\n", "    passive: {observe: layer7}\n    servers:\n", 1)
	n := startNode(t, yaml, Options{})
	server := func() origin.ServerSnapshot {
		t.Helper()
		_, _, body := get(t, "http://"+n.AdminAddr()+"/stats.json")
		var s struct{ Pools []origin.PoolSnapshot }
		if err := json.Unmarshal([]byte(body), &s); err != nil || len(s.Pools) != 1 || len(s.Pools[0].Servers) != 1 {
			t.Fatalf("/stats.json: %v\n%s", err, body)
		}
		return s.Pools[0].Servers[0]
	}
	for _, path := range []string{"/a", "/b", "/fail"} {
		get(t, "http://"+n.HTTPAddr()+path)
	}
	if s := server(); s.Requests != 3 || s.Errors != 1 || s.MeanLatency <= 0 {
		t.Fatalf("before the reload: %+v, want 3 requests, 1 error and a latency", s)
	}
	cfg, err := conf.Parse([]byte(yaml), "test.yaml", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Reload(cfg); err != nil {
		t.Fatal(err)
	}
	if s := server(); s.Requests != 3 || s.Errors != 1 || s.MeanLatency <= 0 {
		t.Errorf("right after the reload: %+v, want the 3 requests, 1 error and latency counted before it", s)
	}
	get(t, "http://"+n.HTTPAddr()+"/c")
	if s := server(); s.Requests != 4 || s.Errors != 1 {
		t.Errorf("after one more request: %+v, want 4 requests and 1 error", s)
	}
}
