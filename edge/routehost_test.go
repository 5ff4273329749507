package edge

import (
	"strings"
	"testing"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

// A route that sets Host (a virtual host of the origin that is not the client's name)
// replaces the request's Host, as nginx's proxy_set_header Host does, on pass and on a
// cache fill alike: the origin reads one Host line, never the client's and the route's
// both, which RFC 9112 section 3.2 has it refuse. The cache key keeps the client's Host.
func TestRoutePolicy_setHostReplacesTheRequestsHost(t *testing.T) {
	o := testenv.StartBadOrigin(t)
	o.Script("/", testenv.Script{Header: []testenv.Field{{Name: "Cache-Control", Value: "max-age=60"}}, Body: []byte("ok")})
	n := policyNode(t, o.URL, `  - match: {path_prefix: /pass/}
    origin: o
    headers: {request: {set: {host: backend.internal, X-Edge: "${host}"}}}
  - match: {path_prefix: /cached/}
    origin: o
    cache: true
    headers: {request: {set: {Host: "cache.${host}"}}}
`, "")
	for _, tc := range []struct{ path, host, want string }{
		{"/pass/a", "www.example.com", "backend.internal"},
		{"/cached/a", "www.example.com", "cache.www.example.com"},
		{"/cached/a", "other.example.com", "cache.other.example.com"}, // its own key: another fill
	} {
		before := len(o.Requests())
		if status, _, body := do(t, "GET", "http://"+n.HTTPAddr()+tc.path, "", "Host", tc.host); status != 200 || body != "ok" {
			t.Fatalf("%s for %s: %d %q", tc.path, tc.host, status, body)
		}
		reqs := o.Requests()
		if len(reqs) != before+1 {
			t.Fatalf("%s for %s: the origin got %d requests, want 1", tc.path, tc.host, len(reqs)-before)
		}
		r := reqs[len(reqs)-1]
		var hosts []string
		for _, f := range r.Header {
			if strings.EqualFold(f.Name, "Host") {
				hosts = append(hosts, f.Value)
			}
		}
		if len(hosts) != 1 || hosts[0] != tc.want {
			t.Errorf("%s for %s: the origin read Host lines %q, want one %q\n%s", tc.path, tc.host, hosts, tc.want, r.Head)
		}
		if tc.path == "/pass/a" && r.Get("X-Edge") != tc.host {
			t.Errorf("${host} in a rule is the client's Host %q, got %q", tc.host, r.Get("X-Edge"))
		}
	}
}
