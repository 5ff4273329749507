package edge

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/conf"
	"github.com/shoal-cdn/shoal/origin"
)

// TestNode_reloadKeepsServersHealth: a reload built every pool anew and a new pool counts
// every server up until its own checks say otherwise, so a SIGHUP for any reason (here a
// route's rate limit) sent requests to a server the checks had taken down: with retries off,
// every other request got 502 until `fall` probes of the new pool failed again. A server
// that the new configuration still lists keeps its health across the reload.
func TestNode_reloadKeepsServersHealth(t *testing.T) {
	up := startOrigin(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	pool := func(interval string) string {
		return "node: {name: test-edge}\norigins:\n  o:\n    retries: 0\n    passive: {errors: 0}\n" +
			"    health: {path: /health, interval: " + interval + ", timeout: 50ms, rise: 2, fall: 1}\n" +
			"    servers: [{url: \"" + up.URL + "\"}, {url: \"http://127.0.0.1:1\"}]\n"
	}
	n := startNode(t, pool("100ms")+"routes: [{match: {path_prefix: /}, origin: o, cache: false}]\n", Options{})
	state := func() []string {
		var s []string
		for _, srv := range n.stats().Pools[0].Servers {
			s = append(s, srv.State)
		}
		return s
	}
	pollUntil(t, 5*time.Second, "the checks to take the closed port down", func() bool {
		s := state()
		return s[0] == origin.StateUp && s[1] == origin.StateDown
	})

	// The new pool's first probes are due up to an hour away: what it serves meanwhile is
	// what it kept.
	yaml := "listen: {http: \"127.0.0.1:0\", admin: \"127.0.0.1:0\"}\n" + pool("1h") +
		"routes: [{match: {path_prefix: /}, origin: o, cache: false, rate_limit: {rate: 1000, burst: 1000}}]\n"
	cfg, err := conf.Parse([]byte(yaml), "test.yaml", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Reload(cfg); err != nil {
		t.Fatal(err)
	}
	if s := state(); s[1] != origin.StateDown {
		t.Errorf("after the reload the servers are %v; want the closed port still down", s)
	}
	var failed []int
	for range 10 {
		if status, _, _ := get(t, "http://"+n.HTTPAddr()+"/page"); status != http.StatusOK {
			failed = append(failed, status)
		}
	}
	if len(failed) > 0 {
		t.Errorf("after the reload %d of 10 requests failed (%v): sent to the server the checks took down", len(failed), failed)
	}
	_, _, metrics := get(t, "http://"+n.AdminAddr()+"/metrics")
	if !strings.Contains(metrics, `shoal_origin_server_up{pool="o",server="127.0.0.1:1"} 0`) {
		t.Errorf("after the reload /metrics does not say the closed port is down")
	}
}
