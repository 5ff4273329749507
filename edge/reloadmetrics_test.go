package edge

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/conf"
)

// TestNode_reloadDropsSeriesOfRemovedServers: a server taken out of the configuration by a
// reload, or a whole pool, kept its shoal_origin_* series until the process ended, frozen at
// their last values: shoal_origin_server_up said 1 for a server the node no longer had, and
// dashboards and alerts counted ghosts. Once the old pools are retired (after
// cache.fill_timeout, so requests in flight finish on them) their series go; a server still
// listed keeps its own.
func TestNode_reloadDropsSeriesOfRemovedServers(t *testing.T) {
	up := startOrigin(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	yaml := func(servers, extra string) string {
		return "listen: {http: \"127.0.0.1:0\", admin: \"127.0.0.1:0\"}\nnode: {name: test-edge}\ncache: {fill_timeout: 100ms}\n" +
			"origins:\n  o:\n    servers: [" + servers + "]\n" + extra +
			"routes: [{match: {path_prefix: /}, origin: o, cache: false}]\n"
	}
	gone := `{url: "http://127.0.0.1:1"}`
	n := startNode(t, yaml(`{url: "`+up.URL+`"}, `+gone, "  old:\n    servers: [{url: \"http://127.0.0.1:2\"}]\n"), Options{})
	get(t, "http://"+n.HTTPAddr()+"/page")
	metrics := func() string { _, _, m := get(t, "http://"+n.AdminAddr()+"/metrics"); return m }
	if m := metrics(); !strings.Contains(m, `server="127.0.0.1:1"`) || !strings.Contains(m, `pool="old"`) {
		t.Fatal("before the reload /metrics lacks the servers under test")
	}
	cfg, err := conf.Parse([]byte(yaml(`{url: "`+up.URL+`"}`, "")), "test.yaml", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Reload(cfg); err != nil {
		t.Fatal(err)
	}
	kept := `shoal_origin_server_up{pool="o",server="` + strings.TrimPrefix(up.URL, "http://") + `"} 1`
	deadline := time.Now().Add(3 * time.Second)
	for {
		m := metrics()
		if !strings.Contains(m, kept) {
			t.Fatalf("the server still listed lost its series:\n%s", grepLines(m, "shoal_origin_server_up"))
		}
		if !strings.Contains(m, `server="127.0.0.1:1"`) && !strings.Contains(m, `pool="old"`) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("3 s after the reload /metrics still has series of the removed server or pool:\n%s", grepLines(m, `server="127.0.0.1:`))
		}
		time.Sleep(50 * time.Millisecond)
	}
}
