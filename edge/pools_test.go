package edge

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/internal/testenv"
	"github.com/shoal-cdn/shoal/origin"
)

// dynamicNginx is an application server stand-in: it answers every path with its name in
// X-Served-By and a session cookie of its own, and health checks on /health.php and /health.html.
func dynamicNginx(t *testing.T, name string) *testenv.Nginx {
	return testenv.StartNginx(t, testenv.NginxOptions{Name: name, Extra: fmt.Sprintf(`
    location = /health.php { return 200 "ok\n"; }
    location = /health.html { return 200 "ok\n"; }
    location / {
      # A location with its own add_header drops the server's, so repeat X-Served-By.
      add_header X-Served-By %[1]s always;
      add_header Set-Cookie "APPSESSION=%[1]s; Path=/";
      return 200 "%[1]s $uri\n";
    }`, name)})
}

func staticNginx(t *testing.T, name string) *testenv.Nginx {
	n := testenv.StartNginx(t, testenv.NginxOptions{Name: name, Extra: "location / { expires 60s; }"})
	n.WriteFile("static/app.js", "console.log('"+name+"');\n")
	n.WriteFile("css/site.css", "body{}\n")
	return n
}

// separationConfig is the static/dynamic layout of the issue: static files cached from a
// round-robin pool, everything else passed to a sticky least-connections pool.
func separationConfig(static, dynamic [2]*testenv.Nginx) string {
	return fmt.Sprintf(`node: {name: shoal-sep}
origins:
  static:
    balance: roundrobin
    health: {path: /health.html, interval: 200ms, timeout: 100ms, rise: 1, fall: 1}
    servers: [{url: %q, id: static-a}, {url: %q, id: static-b}]
  dynamic:
    balance: leastconn
    sticky: {cookie: SHOALSRV}
    health: {path: /health.php, interval: 200ms, timeout: 100ms, rise: 1, fall: 1}
    servers: [{url: %q, id: app-a}, {url: %q, id: app-b}]
routes:
  - {match: {path_prefix: /static/}, origin: static, cache: true}
  - {match: {extensions: [css]}, origin: static, cache: true}
  - {match: {path_prefix: /}, origin: dynamic}
`, static[0].URL, static[1].URL, dynamic[0].URL, dynamic[1].URL)
}

// loadUser is one browser: its own keep-alive connections and cookie jar.
type loadUser struct {
	client  *http.Client
	servers []string // X-Served-By of each dynamic answer, in order
}

func newLoadUser(t *testing.T) *loadUser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{MaxIdleConnsPerHost: 4}
	t.Cleanup(tr.CloseIdleConnections)
	return &loadUser{client: &http.Client{Jar: jar, Transport: tr, Timeout: 10 * time.Second}}
}

// get fetches url and returns who served it, or an error describing any failure.
func (u *loadUser) get(url string) (string, error) {
	resp, err := u.client.Get(url)
	if err != nil {
		return "", err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return "", fmt.Errorf("GET %s: body: %w", url, err)
	}
	if resp.StatusCode != 200 {
		return "", fmt.Errorf("GET %s: %d %q", url, resp.StatusCode, body)
	}
	return resp.Header.Get("X-Served-By"), nil
}

// serverRuns collapses a sequence of servers into its runs: a,a,b,b,b -> a,b.
func serverRuns(servers []string) []string {
	var out []string
	for _, s := range servers {
		if len(out) == 0 || out[len(out)-1] != s {
			out = append(out, s)
		}
	}
	return out
}

// Under load from eight users, one static and one dynamic server are killed. Every request
// (all GET, so idempotent) must still succeed, retried by the pool on the survivor; users
// pinned to the dead application server move to the survivor once and stay; users already on
// the survivor never move.
func TestNode_staticDynamicFailoverUnderLoad(t *testing.T) {
	static := [2]*testenv.Nginx{staticNginx(t, "static-a"), staticNginx(t, "static-b")}
	dynamic := [2]*testenv.Nginx{dynamicNginx(t, "app-a"), dynamicNginx(t, "app-b")}
	n := startNode(t, separationConfig(static, dynamic), Options{})
	base := "http://" + n.HTTPAddr()

	const users = 8
	us := make([]*loadUser, users)
	firstServer := map[string]int{}
	for i := range us {
		// One at a time, so least connections sees ties and alternates: both servers get users.
		us[i] = newLoadUser(t)
		s, err := us[i].get(fmt.Sprintf("%s/app/login?u=%d", base, i))
		if err != nil {
			t.Fatal(err)
		}
		us[i].servers = append(us[i].servers, s)
		firstServer[s]++
	}
	if firstServer["app-a"] == 0 || firstServer["app-b"] == 0 {
		t.Fatalf("users not spread over both application servers: %v", firstServer)
	}

	var total, failed, staticBeforeKill atomic.Int64
	var killed atomic.Bool
	var mu sync.Mutex
	var failures []string
	staticServedBy := map[string]int{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i, u := range us {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seq := 0; ; seq++ {
				select {
				case <-stop:
					return
				default:
				}
				urls := []string{
					fmt.Sprintf("%s/app/page?u=%d&n=%d", base, i, seq),
					fmt.Sprintf("%s/static/app.js?u=%d&n=%d", base, i, seq), // a miss: reaches the static pool
					base + "/css/site.css",                                  // a hit after the first fill
				}
				for k, url := range urls {
					s, err := u.get(url)
					total.Add(1)
					if err != nil {
						failed.Add(1)
						mu.Lock()
						failures = append(failures, err.Error())
						mu.Unlock()
						continue
					}
					switch k {
					case 0:
						u.servers = append(u.servers, s)
					case 1:
						mu.Lock()
						staticServedBy[s]++
						mu.Unlock()
						if !killed.Load() {
							staticBeforeKill.Add(1)
						}
					}
				}
			}
		}()
	}

	pollUntil(t, 30*time.Second, "400 requests before the kill", func() bool { return total.Load() >= 400 })
	mu.Lock()
	before := map[string]int{"static-a": staticServedBy["static-a"], "static-b": staticServedBy["static-b"]}
	mu.Unlock()
	killed.Store(true)
	static[0].Stop()
	dynamic[0].Stop()
	atKill := total.Load()
	pollUntil(t, 10*time.Second, "health checks to take static-a and app-a down", func() bool {
		return serverState(n, "static", "static-a") == origin.StateDown && serverState(n, "dynamic", "app-a") == origin.StateDown
	})
	atDown := total.Load()
	pollUntil(t, 60*time.Second, "400 requests after the kill", func() bool { return total.Load() >= atDown+400 })
	close(stop)
	wg.Wait()

	repinned := 0
	for i, u := range us {
		r := serverRuns(u.servers)
		switch {
		case len(r) == 1 && r[0] == "app-b":
		case len(r) == 2 && r[0] == "app-a" && r[1] == "app-b":
			repinned++
		default:
			t.Errorf("user %d moved between servers other than once from the dead one to the survivor: %v", i, r)
		}
	}
	stats := n.stats()
	t.Logf("requests: %d total (%d before the kill, %d until checks marked the servers down), %d failed",
		total.Load(), atKill, atDown-atKill, failed.Load())
	t.Logf("users: %v first on each app server; %d re-pinned to app-b; static answers before the kill %v, in all %v",
		firstServer, repinned, before, staticServedBy)
	for _, p := range stats.Pools {
		for _, s := range p.Servers {
			t.Logf("pool %s server %s: %s, %d requests, %d errors", p.Name, s.ID, s.State, s.Requests, s.Errors)
		}
	}
	t.Logf("shoal_origin_retries_total: %s", grepLines(metricsText(t, n), "shoal_origin_retries_total{"))
	if f := failed.Load(); f > 0 {
		if len(failures) > 10 {
			failures = failures[:10]
		}
		t.Errorf("%d of %d idempotent requests failed; first ones:\n%s", f, total.Load(), strings.Join(failures, "\n"))
	}
	if repinned != firstServer["app-a"] {
		t.Errorf("%d users re-pinned, want all %d users of app-a", repinned, firstServer["app-a"])
	}
	if before["static-a"] == 0 || before["static-b"] == 0 {
		t.Errorf("round robin did not use both static servers before the kill: %v", before)
	}
	if atDown-atKill < 0 || staticBeforeKill.Load() == 0 {
		t.Errorf("load did not run across the kill")
	}
	for _, u := range us {
		if got := cookieValue(u, base, "SHOALSRV"); got != "app-b" {
			t.Errorf("a user's SHOALSRV cookie is %q, want app-b", got)
		}
	}
}

// With every server of a pass route down, clients get a 503 that says which pool failed.
func TestNode_allServersDownAnswers503(t *testing.T) {
	apps := [2]*testenv.Nginx{dynamicNginx(t, "app-a"), dynamicNginx(t, "app-b")}
	n := startNode(t, fmt.Sprintf(`node: {name: down}
origins:
  dynamic:
    balance: leastconn
    health: {path: /health.php, interval: 200ms, timeout: 100ms, rise: 1, fall: 1}
    servers: [{url: %q, id: app-a}, {url: %q, id: app-b}]
routes:
  - {match: {path_prefix: /}, origin: dynamic}
`, apps[0].URL, apps[1].URL), Options{})
	url := "http://" + n.HTTPAddr() + "/app/page"
	if status, _, _ := get(t, url); status != 200 {
		t.Fatalf("with both servers up: %d", status)
	}
	apps[0].Stop()
	apps[1].Stop()
	pollUntil(t, 10*time.Second, "both servers down", func() bool {
		return serverState(n, "dynamic", "app-a") == origin.StateDown && serverState(n, "dynamic", "app-b") == origin.StateDown
	})
	status, h, body := get(t, url)
	if status != http.StatusServiceUnavailable {
		t.Errorf("all servers down: status %d, want 503", status)
	}
	if want := "service unavailable: no healthy server in origin pool dynamic\n"; body != want {
		t.Errorf("body %q, want %q", body, want)
	}
	if h.Get("Cache-Control") != "no-store" || !strings.HasPrefix(h.Get("Content-Type"), "text/plain") {
		t.Errorf("503 headers: %v", h)
	}
	if strings.Contains(body, apps[0].Addr) || strings.Contains(body, apps[1].Addr) {
		t.Error("the 503 body reveals origin addresses")
	}
}

// /metrics reports every pool and server (shoal_origin_*), labelled by pool and host:port.
func TestNode_originMetricsPerPoolAndServer(t *testing.T) {
	static := [2]*testenv.Nginx{staticNginx(t, "static-a"), staticNginx(t, "static-b")}
	dynamic := [2]*testenv.Nginx{dynamicNginx(t, "app-a"), dynamicNginx(t, "app-b")}
	n := startNode(t, separationConfig(static, dynamic), Options{})
	base := "http://" + n.HTTPAddr()
	for i := range 4 {
		get(t, fmt.Sprintf("%s/static/app.js?n=%d", base, i))
		get(t, fmt.Sprintf("%s/app/page?n=%d", base, i))
	}
	pollUntil(t, 10*time.Second, "a health check of every server", func() bool {
		for _, p := range n.stats().Pools {
			for _, s := range p.Servers {
				if s.LastCheck.Time.IsZero() {
					return false
				}
			}
		}
		return true
	})
	dynamic[1].Stop()
	pollUntil(t, 10*time.Second, "app-b down", func() bool { return serverState(n, "dynamic", "app-b") == origin.StateDown })
	text := metricsText(t, n)

	type series struct{ name, pool, server, extra string }
	var want []series
	for _, s := range []struct {
		pool string
		srv  *testenv.Nginx
		up   string
	}{{"static", static[0], "1"}, {"static", static[1], "1"}, {"dynamic", dynamic[0], "1"}, {"dynamic", dynamic[1], "0"}} {
		want = append(want,
			series{"shoal_origin_server_up", s.pool, s.srv.Addr, "} " + s.up},
			series{"shoal_origin_active_connections", s.pool, s.srv.Addr, "} 0"},
			series{"shoal_origin_health_checks_total", s.pool, s.srv.Addr, `result="success"`},
			series{"shoal_origin_requests_total", s.pool, s.srv.Addr, `code="200"`},
			series{"shoal_origin_response_seconds_count", s.pool, s.srv.Addr, ""},
		)
	}
	want = append(want, series{"shoal_origin_health_checks_total", "dynamic", dynamic[1].Addr, `result="failure"`})
	for _, w := range want {
		if !hasSeries(text, w.name, `pool="`+w.pool+`"`, `server="`+w.server+`"`, w.extra) {
			t.Errorf("/metrics lacks %s for pool %s server %s (%s); have:\n%s", w.name, w.pool, w.server, w.extra, grepLines(text, w.name))
		}
	}
}

// serverState is the state the node's stats report for one server, "" when unknown.
func serverState(n *Node, pool, id string) string {
	for _, p := range n.stats().Pools {
		for _, s := range p.Servers {
			if p.Name == pool && s.ID == id {
				return s.State
			}
		}
	}
	return ""
}

// pollUntil polls cond: health checks run on the real clock, so this is the one place a test
// must wait for time to pass.
func pollUntil(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func metricsText(t testing.TB, n *Node) string {
	t.Helper()
	_, _, body := get(t, "http://"+n.AdminAddr()+"/metrics")
	return body
}

// hasSeries reports whether one line of the exposition holds the metric name and every part.
func hasSeries(text, name string, parts ...string) bool {
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			return true
		}
	}
	return false
}

func containsLine(text, line string) bool {
	for _, l := range strings.Split(text, "\n") {
		if l == line {
			return true
		}
	}
	return false
}

func grepLines(text, substr string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, substr) && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func cookieValue(u *loadUser, base, name string) string {
	req, _ := http.NewRequest("GET", base+"/", nil)
	for _, c := range u.client.Jar.Cookies(req.URL) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}
