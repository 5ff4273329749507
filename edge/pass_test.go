package edge

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

// Static and dynamic requests go to different pools; only the static ones are cached.
func TestNode_staticDynamicSeparationWithRealNginx(t *testing.T) {
	static := testenv.StartNginx(t, testenv.NginxOptions{Name: "static-nginx", Extra: "location / { expires 60s; }"})
	static.WriteFile("img/logo.png", "PNG")
	static.WriteFile("css/site.css", "css")
	dynamic := testenv.StartNginx(t, testenv.NginxOptions{Name: "dynamic-nginx",
		// nginx drops server-level add_header in a location with its own, so repeat X-Served-By.
		Extra: `location / { add_header X-Served-By dynamic-nginx always; add_header Set-Cookie "SESSION=abc; Path=/"; return 200 "page $uri\n"; }`})
	cfg := fmt.Sprintf(`node: {name: sep}
origins:
  static: {servers: [{url: %q}]}
  dynamic: {servers: [{url: %q}]}
routes:
  - {match: {path_prefix: /img/}, origin: static, cache: true}
  - {match: {extensions: [css]}, origin: static, cache: true}
  - {match: {path_prefix: /}, origin: dynamic, cache: false}
`, static.URL, dynamic.URL)
	n := startNode(t, cfg, Options{})
	base := "http://" + n.HTTPAddr()
	cases := []struct {
		path, servedBy, cacheStatus string
	}{
		{"/img/logo.png", "static-nginx", "stored"},
		{"/css/site.css", "static-nginx", "stored"},
		{"/account/", "dynamic-nginx", "fwd=bypass"},
		{"/cart.php", "dynamic-nginx", "fwd=bypass"},
	}
	for _, c := range cases {
		status, h, body := get(t, base+c.path)
		if status != 200 || h.Get("X-Served-By") != c.servedBy || !strings.Contains(h.Get("Cache-Status"), c.cacheStatus) {
			t.Errorf("%s: %d served by %q, Cache-Status %q, body %q", c.path, status, h.Get("X-Served-By"), h.Get("Cache-Status"), body)
		}
	}
	get(t, base+"/account/")
	if got := dynamic.Requests("/account/"); got != 2 {
		t.Errorf("dynamic origin saw %d requests for /account/, want 2 (never cached)", got)
	}
}

// The origin sees forwarding fields and no hop-by-hop fields; the client sees the origin's
// header names exactly as sent.
func TestNode_forwardingAndHopByHopHeaders(t *testing.T) {
	seen := make(chan http.Header, 1)
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		seen <- r.Header.Clone()
		w.Header()["x-lower-Mixed-CASE"] = []string{"kept"}
		w.Header().Set("Connection", "X-Secret-Hop")
		w.Header()["X-Secret-Hop"] = []string{"must not reach the client"}
		w.Header().Set("Keep-Alive", "timeout=5")
		fmt.Fprint(w, "ok")
	})
	n := startNode(t, oneRoute(false, origin.URL), Options{})
	req, _ := http.NewRequest("GET", "http://"+n.HTTPAddr()+"/page", nil)
	req.Header.Set("X-Forwarded-For", "203.0.113.9")
	req.Header.Set("Connection", "X-Client-Hop")
	req.Header.Set("X-Client-Hop", "must not reach the origin")
	req.Header.Set("Proxy-Authorization", "Basic Zm9vOmJhcg==")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	got := <-seen
	if xff := got.Get("X-Forwarded-For"); xff != "203.0.113.9, 127.0.0.1" {
		t.Errorf("X-Forwarded-For = %q", xff)
	}
	if got.Get("X-Forwarded-Proto") != "http" || got.Get("Via") != "1.1 test-edge" {
		t.Errorf("X-Forwarded-Proto %q, Via %q", got.Get("X-Forwarded-Proto"), got.Get("Via"))
	}
	for _, hop := range []string{"X-Client-Hop", "Proxy-Authorization"} {
		if got.Get(hop) != "" {
			t.Errorf("origin received hop-by-hop %s", hop)
		}
	}
	// Go's client canonicalises names, so read this response raw.
	if raw := rawResponse(t, n.HTTPAddr(), "GET /page HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"); !strings.Contains(raw, "\r\nx-lower-Mixed-CASE: kept\r\n") {
		t.Errorf("origin header name not preserved as sent:\n%s", raw)
	}
	<-seen
	if resp.Header.Get("X-Secret-Hop") != "" || resp.Header.Get("Keep-Alive") != "" {
		t.Errorf("client received hop-by-hop fields: %v", resp.Header)
	}
	if resp.Header.Get("Via") != "1.1 test-edge" {
		t.Errorf("response Via = %q", resp.Header.Get("Via"))
	}
}

func TestNode_poolErrorsBecomeClearStatuses(t *testing.T) {
	closed := testenv.FreePort(t) // nothing listens here
	n := startNode(t, oneRoute(false, "http://"+closed), Options{})
	status, _, body := get(t, "http://"+n.HTTPAddr()+"/")
	if status != http.StatusBadGateway && status != http.StatusServiceUnavailable || !strings.Contains(body, "origin pool o") {
		t.Errorf("dead origin: %d %q", status, body)
	}
}
