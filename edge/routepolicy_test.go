package edge

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/conf"
	"github.com/shoal-cdn/shoal/internal/testenv"
)

// Route policy (issue 17) through a node in front of a real nginx. Each test fails without
// the rule it names: the node then stores, keys or relays what the origin sent as it is.

// policyNode starts a node whose single pool is origin, with the given routes (YAML lines
// under "routes:") and extra top-level YAML.
func policyNode(t *testing.T, origin string, routes, extra string) *Node {
	t.Helper()
	return policyNodeWith(t, origin, routes, extra, Options{})
}

func policyNodeWith(t *testing.T, origin string, routes, extra string, opts Options) *Node {
	t.Helper()
	return startNode(t, fmt.Sprintf("node: {name: edge-p}\ncache: {memory: 64MiB, max_object_size: 8MiB, fill_timeout: 5s}\norigins:\n  o: {servers: [{url: %q}]}\nroutes:\n%s%s", origin, routes, extra), opts)
}

// waitFor polls cond for up to 5 seconds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("condition not met within 5s")
}

// originCount is ngx.Requests(prefix) once nginx has logged want requests, or after 2 s:
// nginx writes the access log line after the response, so a count read at once may lag.
func originCount(ngx *testenv.Nginx, prefix string, want int) int {
	deadline := time.Now().Add(2 * time.Second)
	for {
		got := ngx.Requests(prefix)
		if got >= want || time.Now().After(deadline) {
			return got
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// do sends one request without following redirects; header is name, value pairs.
func do(t *testing.T, method, url, body string, header ...string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		if strings.EqualFold(header[i], "Host") {
			req.Host = header[i+1]
			continue
		}
		req.Header.Add(header[i], header[i+1])
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// cacheTTL reads ttl= from a Cache-Status value, -1 when absent.
func cacheTTL(cs string) int {
	_, rest, ok := strings.Cut(cs, "ttl=")
	if !ok {
		return -1
	}
	end := strings.IndexAny(rest, ";, ")
	if end < 0 {
		end = len(rest)
	}
	n, err := strconv.Atoi(rest[:end])
	if err != nil {
		return -1
	}
	return n
}

func TestRoutePolicy_ttl(t *testing.T) {
	ngx := testenv.StartNginx(t, testenv.NginxOptions{Extra: `
location /plain/ { return 200 "plain\n"; }
location /short/ { expires 2s; return 200 "short\n"; }
location /long/ { expires 1d; return 200 "long\n"; }
location /moved/ { return 302 /elsewhere; }
location /private/ { add_header Cache-Control private; return 200 "mine\n"; }`})
	n := policyNode(t, ngx.URL, `  - match: {path_prefix: /plain/}
    origin: o
    cache: true
    ttl: {status: {200: 1h}}
  - match: {path_prefix: /short/}
    origin: o
    cache: true
    ttl: {status: {200: 1h}, override: true}
  - match: {path_prefix: /long/}
    origin: o
    cache: true
    ttl: {max: 10m}
  - match: {path_prefix: /missing/}
    origin: o
    cache: true
    ttl: {status: {404: 1m}}
  - match: {path_prefix: /moved/}
    origin: o
    cache: true
    ttl: {status: {302: 30s}}
  - match: {path_prefix: /private/}
    origin: o
    cache: true
    ttl: {status: {200: 1h}, override: true}
`, "")
	base := "http://" + n.HTTPAddr()
	cases := []struct {
		path       string
		ttlMin     int
		ttlMax     int
		wantStatus int
	}{
		{"/plain/a", 3590, 3600, 200}, // no freshness from the origin: the status TTL
		{"/short/a", 3590, 3600, 200}, // override beats max-age=2
		{"/long/a", 590, 600, 200},    // max clamps a day to 10 minutes
		{"/missing/a", 50, 60, 404},   // negative caching
		{"/moved/a", 20, 30, 302},     // a 302 stored for the time given
	}
	for _, c := range cases {
		status, _, _ := do(t, "GET", base+c.path, "")
		if status != c.wantStatus {
			t.Errorf("%s: status %d, want %d", c.path, status, c.wantStatus)
		}
		status, h, _ := do(t, "GET", base+c.path, "")
		cs := h.Get("Cache-Status")
		if ttl := cacheTTL(cs); status != c.wantStatus || !strings.Contains(cs, "hit") || ttl < c.ttlMin || ttl > c.ttlMax {
			t.Errorf("%s second request: %d, Cache-Status %q; want a hit with ttl in %d..%d", c.path, status, cs, c.ttlMin, c.ttlMax)
		}
		if got := originCount(ngx, c.path, 1); got != 1 {
			t.Errorf("%s: origin saw %d requests, want 1", c.path, got)
		}
	}
	// override changes freshness only: private (like no-store) still keeps a response out.
	do(t, "GET", base+"/private/a", "")
	if _, h, _ := do(t, "GET", base+"/private/a", ""); strings.Contains(h.Get("Cache-Status"), "hit") || originCount(ngx, "/private/a", 2) != 2 {
		t.Errorf("a private response was stored under override: %q", h.Get("Cache-Status"))
	}
}

func TestRoutePolicy_staleWindow(t *testing.T) {
	ngx := testenv.StartNginx(t, testenv.NginxOptions{Extra: `location / { expires 1s; return 200 "x\n"; }`})
	var skew atomic.Int64 // the node's clock runs ahead by this much
	now := func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	n := policyNodeWith(t, ngx.URL, `  - match: {path_prefix: /swr/}
    origin: o
    cache: true
    stale: {while_revalidate: 1h}
  - match: {path_prefix: /}
    origin: o
    cache: true
    stale: {if_error: 1h}
`, "", Options{Now: now})
	base := "http://" + n.HTTPAddr()
	do(t, "GET", base+"/swr/a", "")
	do(t, "GET", base+"/s", "")
	n.settleFills()
	skew.Store(int64(time.Minute)) // stale by a minute, well inside the routes' hour
	// stale-while-revalidate: served at once from the store, refreshed in the background.
	status, h, body := do(t, "GET", base+"/swr/a", "")
	if cs := h.Get("Cache-Status"); status != 200 || body != "x\n" || !strings.Contains(cs, "hit") || cacheTTL(cs) >= 0 {
		t.Errorf("stale within the route's while_revalidate: %d %q %q", status, cs, body)
	}
	ngx.Stop()
	status, h, body = do(t, "GET", base+"/s", "")
	if status != 200 || body != "x\n" || !strings.Contains(h.Get("Cache-Status"), "fwd=stale") {
		t.Errorf("origin down, stale within the route's if_error: %d %q %q", status, h.Get("Cache-Status"), body)
	}
}

func TestRoutePolicy_cacheKey(t *testing.T) {
	ngx := testenv.StartNginx(t, testenv.NginxOptions{Extra: `location / { expires 60s; return 200 "args=[$args] lang=[$cookie_lang] dev=[$http_x_device] host=[$host]\n"; }`})
	n := policyNode(t, ngx.URL, `  - match: {path_prefix: /q/}
    origin: o
    cache: true
    cache_key: {ignore_params: ["utm_*", gclid]}
  - match: {path_prefix: /all/}
    origin: o
    cache: true
    cache_key: {ignore_params: ["*"]}
  - match: {path_prefix: /vary/}
    origin: o
    cache: true
    cache_key: {include_headers: [X-Device], include_cookies: [lang]}
  - match: {path_prefix: /anyhost/}
    origin: o
    cache: true
    cache_key: {ignore_host: true}
`, "")
	base := "http://" + n.HTTPAddr()

	_, _, b1 := do(t, "GET", base+"/q/a?id=1&utm_source=x&gclid=9", "")
	_, h2, b2 := do(t, "GET", base+"/q/a?utm_medium=y&id=1", "")
	if b1 != "args=[id=1] lang=[] dev=[] host=[127.0.0.1]\n" && !strings.HasPrefix(b1, "args=[id=1]") {
		t.Errorf("the origin received tracking parameters: %q", b1)
	}
	if !strings.Contains(h2.Get("Cache-Status"), "hit") || b2 != b1 || originCount(ngx, "/q/a", 1) != 1 {
		t.Errorf("tracking parameters split the object: %q %q, origin saw %d", h2.Get("Cache-Status"), b2, ngx.Requests("/q/a"))
	}
	_, _, b3 := do(t, "GET", base+"/q/a?id=2&utm_source=x", "")
	if !strings.HasPrefix(b3, "args=[id=2]") {
		t.Errorf("a kept parameter did not make another object: %q", b3)
	}

	_, _, b := do(t, "GET", base+"/all/a?x=1", "")
	_, h, _ := do(t, "GET", base+"/all/a?y=2", "")
	if !strings.HasPrefix(b, "args=[]") || !strings.Contains(h.Get("Cache-Status"), "hit") {
		t.Errorf("ignore_params *: %q %q", b, h.Get("Cache-Status"))
	}

	_, _, en := do(t, "GET", base+"/vary/a", "", "Cookie", "lang=en", "X-Device", "mobile")
	_, _, de := do(t, "GET", base+"/vary/a", "", "Cookie", "lang=de", "X-Device", "mobile")
	_, _, desk := do(t, "GET", base+"/vary/a", "", "Cookie", "lang=en", "X-Device", "desktop")
	_, h, again := do(t, "GET", base+"/vary/a", "", "Cookie", "lang=en", "X-Device", "mobile")
	if !strings.Contains(en, "lang=[en] dev=[mobile]") || !strings.Contains(de, "lang=[de]") || !strings.Contains(desk, "dev=[desktop]") {
		t.Errorf("named field and cookie did not split the key: %q %q %q", en, de, desk)
	}
	if again != en || !strings.Contains(h.Get("Cache-Status"), "hit") {
		t.Errorf("same field and cookie: %q %q", again, h.Get("Cache-Status"))
	}

	do(t, "GET", base+"/anyhost/a", "", "Host", "www.example.com")
	_, h, _ = do(t, "GET", base+"/anyhost/a", "", "Host", "example.com")
	if !strings.Contains(h.Get("Cache-Status"), "hit") || originCount(ngx, "/anyhost/a", 1) != 1 {
		t.Errorf("ignore_host: %q, origin saw %d", h.Get("Cache-Status"), ngx.Requests("/anyhost/a"))
	}
}

func TestRoutePolicy_cookies(t *testing.T) {
	ngx := testenv.StartNginx(t, testenv.NginxOptions{Extra: `
location /static/ { expires 60s; add_header Set-Cookie "tracker=1; Path=/"; return 200 "cookie=[$http_cookie]\n"; }
location / { expires 60s; return 200 "cookie=[$http_cookie]\n"; }`})
	n := policyNode(t, ngx.URL, `  - match: {path_prefix: /static/}
    origin: o
    cache: true
    cookies: {strip_request: true, strip_set_cookie: true}
  - match: {path_prefix: /}
    origin: o
    cache: true
    cookies: {bypass_if: ["wordpress_logged_in_*"]}
`, "")
	base := "http://" + n.HTTPAddr()
	_, h, body := do(t, "GET", base+"/static/a.css", "", "Cookie", "session=secret", "Cookie", "other=2")
	if body != "cookie=[]\n" || h.Get("Set-Cookie") != "" || !strings.Contains(h.Get("Cache-Status"), "stored") {
		t.Errorf("strip: body %q Set-Cookie %q Cache-Status %q", body, h.Get("Set-Cookie"), h.Get("Cache-Status"))
	}
	_, h, _ = do(t, "GET", base+"/static/a.css", "")
	if !strings.Contains(h.Get("Cache-Status"), "hit") || h.Get("Set-Cookie") != "" {
		t.Errorf("second request: %q Set-Cookie %q", h.Get("Cache-Status"), h.Get("Set-Cookie"))
	}

	do(t, "GET", base+"/page", "")
	_, h, body = do(t, "GET", base+"/page", "", "Cookie", "a=1; wordpress_logged_in_abc=admin")
	if !strings.Contains(h.Get("Cache-Status"), "fwd=bypass") || !strings.Contains(body, "wordpress_logged_in_abc=admin") {
		t.Errorf("logged-in user was not passed: %q %q", h.Get("Cache-Status"), body)
	}
	// The cookie on a second Cookie line (HTTP/2 clients send one line per cookie).
	_, h, _ = do(t, "GET", base+"/page", "", "Cookie", "a=1", "Cookie", "wordpress_logged_in_abc=admin")
	if !strings.Contains(h.Get("Cache-Status"), "fwd=bypass") {
		t.Errorf("logged-in cookie on a second Cookie line was not passed: %q", h.Get("Cache-Status"))
	}
	_, h, _ = do(t, "GET", base+"/page", "", "Cookie", "wordpress_test_cookie=1")
	if !strings.Contains(h.Get("Cache-Status"), "hit") {
		t.Errorf("a cookie bypass_if does not name was passed: %q", h.Get("Cache-Status"))
	}
}

func TestRoutePolicy_fields(t *testing.T) {
	ngx := testenv.StartNginx(t, testenv.NginxOptions{Extra: `location / { expires 60s; add_header X-Powered-By PHP/8.2; return 200 "edge=[$http_x_edge] debug=[$http_x_debug] via-path=[$http_x_path] id=[$http_x_id]\n"; }`})
	n := policyNode(t, ngx.URL, `  - match: {path_prefix: /cached/}
    origin: o
    cache: true
    headers: {response: {set: {X-Frame-Options: DENY}, remove: [X-Powered-By]}}
  - match: {path_prefix: /shop/}
    origin: o
    headers:
      request:  {set: {X-Edge: "${node}", X-Path: "${path_after_prefix}", X-Id: "${request_id}"}, remove: [X-Debug]}
      response: {set: {Strict-Transport-Security: "max-age=31536000"}, add: {X-Client: "${client_ip}"}, remove: [X-Powered-By]}
`, "")
	status, h, body := do(t, "GET", "http://"+n.HTTPAddr()+"/shop/cart", "", "X-Debug", "1", "X-Request-Id", "abc123")
	if status != 200 || body != "edge=[edge-p] debug=[] via-path=[/cart] id=[abc123]\n" {
		t.Errorf("request fields: %d %q", status, body)
	}
	if h.Get("Strict-Transport-Security") != "max-age=31536000" || h.Get("X-Powered-By") != "" || h.Get("X-Client") != "127.0.0.1" {
		t.Errorf("response fields: %v", h)
	}
	// On a cache route the miss, the hit and a HEAD hit get the same fields.
	for i, method := range []string{"GET", "GET", "HEAD"} {
		_, h, _ := do(t, method, "http://"+n.HTTPAddr()+"/cached/a", "")
		if h.Get("X-Frame-Options") != "DENY" || h.Get("X-Powered-By") != "" || i > 0 && !strings.Contains(h.Get("Cache-Status"), "hit") {
			t.Errorf("%s #%d on a cache route: X-Frame-Options %q X-Powered-By %q Cache-Status %q", method, i, h.Get("X-Frame-Options"), h.Get("X-Powered-By"), h.Get("Cache-Status"))
		}
	}
}

func TestRoutePolicy_redirectAndRewrite(t *testing.T) {
	ngx := testenv.StartNginx(t, testenv.NginxOptions{Extra: `location / { expires 60s; }`})
	ngx.WriteFile("site.css", "css at the root")
	n := policyNode(t, ngx.URL, `  - match: {path_prefix: /old/}
    redirect: {to: "https://www.example.com/new${path_after_prefix}", status: 301}
  - match: {path_prefix: /blog/}
    redirect: {regex: "^/blog/([0-9]+)$", to: "/posts/$1", status: 308}
  - match: {path_prefix: /assets/}
    origin: o
    cache: true
    rewrite: {strip_prefix: /assets}
`, "")
	base := "http://" + n.HTTPAddr()
	cases := []struct {
		path     string
		status   int
		location string
	}{
		{"/old/a/b.html?x=1", 301, "https://www.example.com/new/a/b.html"},
		{"/blog/42", 308, "/posts/42"},
		{"/blog/x", 404, ""}, // the regex does not match and the route has no origin
	}
	for _, c := range cases {
		status, h, _ := do(t, "GET", base+c.path, "")
		if status != c.status || h.Get("Location") != c.location {
			t.Errorf("%s: %d Location %q; want %d %q", c.path, status, h.Get("Location"), c.status, c.location)
		}
	}
	status, _, body := do(t, "GET", base+"/assets/site.css", "")
	_, h, _ := do(t, "GET", base+"/assets/site.css", "")
	if status != 200 || body != "css at the root" || originCount(ngx, "/site.css", 1) != 1 || ngx.Requests("/assets/") != 0 {
		t.Errorf("rewrite: %d %q, origin saw /site.css %d times, /assets/ %d times", status, body, ngx.Requests("/site.css"), ngx.Requests("/assets/"))
	}
	if !strings.Contains(h.Get("Cache-Status"), "hit") {
		t.Errorf("rewritten target not cached: %q", h.Get("Cache-Status"))
	}
}

func TestRoutePolicy_accessAndBodyLimit(t *testing.T) {
	ngx := testenv.StartNginx(t, testenv.NginxOptions{Extra: `location / { return 200 "ok\n"; }`})
	n := policyNode(t, ngx.URL, `  - match: {path_prefix: /intranet/}
    origin: o
    access: {allow: [10.0.0.0/8]}
  - match: {path_prefix: /blocked/}
    origin: o
    access: {deny: [127.0.0.0/8]}
  - match: {path_prefix: /local/}
    origin: o
    access: {allow: [127.0.0.0/8, "::1/128"]}
  - match: {path_prefix: /upload/}
    origin: o
    max_body_bytes: 1KiB
`, "")
	base := "http://" + n.HTTPAddr()
	for path, want := range map[string]int{"/intranet/a": 403, "/blocked/a": 403, "/local/a": 200} {
		if status, _, _ := do(t, "GET", base+path, ""); status != want {
			t.Errorf("%s: %d, want %d", path, status, want)
		}
	}
	if got := ngx.Requests("/intranet/") + ngx.Requests("/blocked/"); got != 0 {
		t.Errorf("refused requests reached the origin %d times", got)
	}
	if status, _, _ := do(t, "POST", base+"/upload/a", strings.Repeat("x", 2048)); status != 413 {
		t.Errorf("2 KiB body on a 1 KiB route: %d", status)
	}
	if status, _, _ := do(t, "POST", base+"/upload/a", strings.Repeat("x", 1024)); status != 200 {
		t.Errorf("1 KiB body on a 1 KiB route: %d", status)
	}
	// Without Content-Length: a chunked body is measured as it arrived.
	chunked := "POST /upload/a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n401\r\n" + strings.Repeat("x", 1025) + "\r\n0\r\n\r\n"
	if line := rawRequest(t, n.HTTPAddr(), chunked); !strings.HasPrefix(line, "HTTP/1.1 413") {
		t.Errorf("chunked 1025 B body on a 1 KiB route: %q", line)
	}
}

func TestRoutePolicy_errorPagesAndMaintenanceReload(t *testing.T) {
	ngx := testenv.StartNginx(t, testenv.NginxOptions{Extra: `location /oops { return 503 "origin 503\n"; } location / { return 200 "up\n"; }`})
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "503.html"), []byte("<h1>We will be back</h1>"), 0o644)
	os.WriteFile(filepath.Join(dir, "429.html"), []byte("<h1>Slow down</h1>"), 0o644)
	os.WriteFile(filepath.Join(dir, "403.txt"), []byte("not for you\n"), 0o644)
	yaml := func(maintenance bool) string {
		return fmt.Sprintf(`listen: {http: "127.0.0.1:0", admin: "127.0.0.1:0"}
node: {name: edge-p}
origins:
  o: {servers: [{url: %q}]}
  down: {servers: [{url: "http://%s"}], health: {path: /health, interval: 100ms, timeout: 50ms, rise: 1, fall: 1}}
routes:
  - {match: {path_prefix: /gone/}, origin: down}
  - {match: {path_prefix: /limited/}, origin: o, rate_limit: {rate: 0.001, burst: 0}}
  - {match: {path_prefix: /intranet/}, origin: o, access: {allow: [10.0.0.0/8]}}
  - {match: {path_prefix: /}, origin: o}
error_pages: {503: 503.html, 429: 429.html, 403: 403.txt, maintenance: %v}
`, ngx.URL, testenv.FreePort(t), maintenance)
	}
	load := func(maintenance bool) *conf.Config {
		cfg, err := conf.Parse([]byte(yaml(maintenance)), "test.yaml", dir)
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	n, err := New(load(false), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Shutdown(t.Context()) })
	base := "http://" + n.HTTPAddr()
	waitFor(t, func() bool { s, _, _ := do(t, "GET", base+"/gone/", ""); return s == 503 })
	status, h, body := do(t, "GET", base+"/gone/", "")
	if status != 503 || body != "<h1>We will be back</h1>" || !strings.HasPrefix(h.Get("Content-Type"), "text/html") {
		t.Errorf("every server down: %d %q %q", status, h.Get("Content-Type"), body)
	}
	var status429 int
	var body429 string
	for i := 0; i < 3 && status429 != 429; i++ {
		status429, _, body429 = do(t, "GET", base+"/limited/", "")
	}
	if status429 != 429 || body429 != "<h1>Slow down</h1>" {
		t.Errorf("rate limited: %d %q", status429, body429)
	}
	if status, h, body := do(t, "GET", base+"/intranet/", ""); status != 403 || body != "not for you\n" || !strings.HasPrefix(h.Get("Content-Type"), "text/plain") {
		t.Errorf("access refused: %d %q %q", status, h.Get("Content-Type"), body)
	}
	// An error the origin itself sent is the origin's: only the node's own answers get pages.
	if status, _, body := do(t, "GET", base+"/oops", ""); status != 503 || body != "origin 503\n" {
		t.Errorf("origin answer changed: %d %q", status, body)
	}
	if err := n.Reload(load(true)); err != nil {
		t.Fatal(err)
	}
	if status, h, body := do(t, "GET", base+"/", ""); status != 503 || body != "<h1>We will be back</h1>" || h.Get("Retry-After") == "" {
		t.Errorf("maintenance on: %d %q", status, body)
	}
	if ngx.Requests("/ ") != 0 {
		t.Errorf("maintenance let a request through to the origin")
	}
	if err := n.Reload(load(false)); err != nil {
		t.Fatal(err)
	}
	if status, _, body := do(t, "GET", base+"/", ""); status != 200 || body != "up\n" {
		t.Errorf("maintenance off: %d %q", status, body)
	}
}

func TestRoutePolicy_shownOnStats(t *testing.T) {
	ngx := testenv.StartNginx(t, testenv.NginxOptions{})
	n := policyNode(t, ngx.URL, `  - match: {extensions: [css]}
    origin: o
    cache: true
    ttl: {status: {200: 1d}}
    cache_key: {ignore_params: ["utm_*"]}
    headers: {response: {set: {X-Frame-Options: DENY}}}
  - match: {path_prefix: /}
    origin: o
`, "")
	_, _, js := do(t, "GET", "http://"+n.AdminAddr()+"/stats.json", "")
	for _, want := range []string{`"match": "extensions css"`, `ttl {200=24h0m0s}`, `ignore_params=[utm_*]`, `response set X-Frame-Options: DENY`, `"maintenance": false`} {
		if !strings.Contains(js, want) {
			t.Errorf("/stats.json lacks %q:\n%s", want, js)
		}
	}
	_, _, page := do(t, "GET", "http://"+n.AdminAddr()+"/stats", "")
	if !strings.Contains(page, "response set X-Frame-Options: DENY") || !strings.Contains(page, `data-route="1"`) {
		t.Errorf("/stats lacks the route policy")
	}
}
