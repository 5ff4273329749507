package edge

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/conf"
)

// underscoreSpoofs are fields a CGI, FastCGI, WSGI or Rack origin reads as the one with '-'
// (HTTP_X_FORWARDED_FOR): the node's own forwarding fields, the framing it checks, the client
// address a front proxy sets.
var underscoreSpoofs = []string{"X_Forwarded_For", "Content_Length", "Transfer_Encoding", "X_Real_IP", "X_Forwarded_Proto", "Via_", "Shoal_Peer"}

// Request fields whose names hold '_' are dropped on receipt, as nginx drops them by default
// (underscores_in_headers off): over HTTP/1.1 and HTTP/2, on pass and miss, none reaches the
// origin, while a hyphenated field does. limits.underscores_in_headers: true keeps them, and
// a reload moves it both ways.
func TestNode_underscoreFieldNamesNeverReachTheOrigin(t *testing.T) {
	o := startRawLogOrigin(t)
	yaml := `listen: {http: "127.0.0.1:0", h2c: "127.0.0.1:0", admin: "127.0.0.1:0"}
` + hostileConfig(o.URL, "")
	n := startNode(t, yaml, Options{})
	clients := map[string]*http.Client{"http1": {Timeout: 10 * time.Second}, "h2c": h2cClient()}
	addrs := map[string]string{"http1": n.HTTPAddr(), "h2c": n.H2CAddr()}
	round := 0
	check := func(keep bool) {
		t.Helper()
		round++
		for _, proto := range []string{"http1", "h2c"} {
			for _, path := range []string{"/dyn/u", "/miss/u"} { // pass, cache miss
				target := fmt.Sprintf("%s%d-%s", path, round, proto)
				req, _ := http.NewRequest("GET", "http://"+addrs[proto]+target, nil)
				req.Header["X-Kept-Field"] = []string{"yes"}
				for _, name := range underscoreSpoofs {
					req.Header[name] = []string{"spoofed"}
				}
				resp, err := clients[proto].Do(req)
				if err != nil {
					t.Fatalf("%s %s: %v", proto, target, err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Fatalf("%s %s: %d", proto, target, resp.StatusCode)
				}
				var got *rawLogged
				for _, r := range o.requests() {
					if r.target() == target {
						got = &r
					}
				}
				if got == nil {
					t.Fatalf("%s %s: never reached the origin", proto, target)
				}
				if v := got.values("X-Kept-Field"); len(v) != 1 || v[0] != "yes" {
					t.Errorf("%s %s: X-Kept-Field reached the origin as %q, want one \"yes\"", proto, target, v)
				}
				if !keep {
					for _, f := range got.fields {
						if name, _, _ := strings.Cut(f, ":"); strings.Contains(name, "_") {
							t.Errorf("%s %s: the origin received %q", proto, target, f)
						}
					}
					continue
				}
				// Kept, but the proxy-only spellings still go for a client not trusted.
				for _, name := range []string{"Content_Length", "Transfer_Encoding", "Via_"} {
					if v := got.values(name); len(v) != 1 || v[0] != "spoofed" {
						t.Errorf("%s %s with underscores_in_headers: %s reached the origin as %q", proto, target, name, v)
					}
				}
				if v := got.values("X_Real_IP"); len(v) != 0 {
					t.Errorf("%s %s: X_Real_IP from an untrusted client reached the origin: %q", proto, target, v)
				}
			}
			clients[proto].CloseIdleConnections()
		}
	}
	check(false)
	reload := func(yaml string) {
		t.Helper()
		cfg, err := conf.Parse([]byte(yaml), "test.yaml", t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		if err := n.Reload(cfg); err != nil {
			t.Fatal(err)
		}
	}
	reload(strings.Replace(yaml, "node:", "limits: {underscores_in_headers: true}\nnode:", 1))
	check(true)
	reload(yaml)
	check(false)
}
