package edge

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/shoal-cdn/shoal/conf"
)

// spoofedNeighbours are fields only a front proxy may set that origin frameworks read by
// default, beside the X-Forwarded-Host and X-Real-IP kind TestNode_forwardingFieldsAreOurs
// sends: the scheme (gunicorn's X-Forwarded-Protocol, Yii's and Exchange's Front-End-Https)
// and the client address (Rails' Client-IP, django-ipware's and PHP snippets' list, the CDNs'
// own fields).
var spoofedNeighbours = []string{
	"X-Forwarded-Protocol", "Front-End-Https", "Client-IP", "X-Cluster-Client-IP", "X-Forwarded",
	"Forwarded-For", "CF-Connecting-IP", "Fastly-Client-IP", "True-Client-IP",
}

// TestNode_proxyOnlyNeighboursStayWithAnUntrustedClient: none of spoofedNeighbours, in any
// case, reaches the origin from a client outside trusted_proxies, over HTTP/1.1 and h2c, on
// pass and miss; from a trusted proxy each does. Failed before: all but True-Client-IP
// reached the origin, so a client could tell a gunicorn or Yii origin that it came over
// HTTPS, or any ipware origin that it was another address.
func TestNode_proxyOnlyNeighboursStayWithAnUntrustedClient(t *testing.T) {
	origin := startRawLogOrigin(t)
	listen := "listen: {http: \"127.0.0.1:0\", h2c: \"127.0.0.1:0\", admin: \"127.0.0.1:0\"}\n"
	n := startNode(t, hostileConfig(origin.URL, listen), Options{})
	h2 := h2cClient()
	defer h2.CloseIdleConnections()
	send := func(proto, path string) {
		t.Helper()
		if proto == "HTTP/1.1" {
			var b strings.Builder
			for i, name := range spoofedNeighbours {
				if i%2 == 1 {
					name = strings.ToLower(name)
				}
				b.WriteString(name + ": 6.6.6.6\r\n")
			}
			if line := rawRequest(t, n.HTTPAddr(), "GET "+path+" HTTP/1.1\r\nHost: www.test\r\n"+b.String()+"\r\n"); !strings.Contains(line, " 200 ") {
				t.Fatalf("%s %s: %q", proto, path, line)
			}
			return
		}
		req, _ := http.NewRequest("GET", "http://"+n.H2CAddr()+path, nil)
		req.Host = "www.test"
		for _, name := range spoofedNeighbours {
			req.Header[name] = []string{"6.6.6.6"}
		}
		resp, err := h2.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", proto, path, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s %s: %d", proto, path, resp.StatusCode)
		}
	}
	check := func(trusted bool, suffix string) {
		t.Helper()
		for _, proto := range []string{"HTTP/1.1", "HTTP/2"} {
			for _, path := range []string{"/c/n" + suffix + proto[5:] + ".css", "/dyn/n" + suffix + proto[5:]} {
				send(proto, path)
				var r rawLogged
				for _, got := range origin.requests() {
					if got.target() == path {
						r = got
					}
				}
				if r.line == "" {
					t.Fatalf("%s %s: the origin was not asked", proto, path)
				}
				for _, name := range spoofedNeighbours {
					if got := r.values(name); trusted != (len(got) == 1) {
						t.Errorf("%s %s (trusted %v): origin received %s %q", proto, path, trusted, name, got)
					}
				}
			}
		}
	}
	check(false, "")
	l := n.rt.Load().cfg.Listen
	trusted, err := conf.Parse([]byte(hostileConfig(origin.URL, fmt.Sprintf("listen: {http: %q, h2c: %q, admin: %q}\ntrusted_proxies: [127.0.0.0/8]\n",
		l.HTTP, l.H2C, l.Admin))), "reload.yaml", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Reload(trusted); err != nil {
		t.Fatal(err)
	}
	check(true, "-trusted")
}
