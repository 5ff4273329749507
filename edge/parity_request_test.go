package edge

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

// TestParity_sameRequestToTheOrigin: the request an origin gets does not depend on the
// protocol the client spoke. Each request goes over HTTP/1.1, h2c and HTTP/2 over TLS (on
// a pass and on a miss), with HTTP/2's cookie crumbs (RFC 9113 section 8.2.3: one field per
// cookie, joined with "; " for HTTP/1.1) and TE: trailers (the only TE HTTP/2 allows,
// section 8.2.2); the origin's fields are compared per name, values in order, except what
// says the scheme (X-Forwarded-Proto, Forwarded) and Via, whose member names the protocol
// the request came on (TestNode_requestViaNamesTheProtocolItCameOn).
func TestParity_sameRequestToTheOrigin(t *testing.T) {
	o := testenv.StartBadOrigin(t)
	dir := t.TempDir()
	certFile, keyFile, pool := writeCert(t, dir, "site", "www.example.test")
	n := startNode(t, fmt.Sprintf(`listen: {http: "127.0.0.1:0", https: "127.0.0.1:0", h2c: "127.0.0.1:0", admin: "127.0.0.1:0"}
tls: {certificates: [{cert: %s, key: %s}]}
`, certFile, keyFile)+hostileConfig(o.URL, ""), Options{})
	protos := []wireProto{
		{name: "HTTP/1.1", addr: n.HTTPAddr()},
		{name: "h2c", addr: n.H2CAddr(), h2: true},
		{name: "HTTP/2 over TLS", addr: n.HTTPSAddr(), tls: true, h2: true, pool: pool},
	}
	common := []string{"Accept", "text/html", "Accept-Language", "en, de;q=0.5", "X-Empty", "", "X-Two", "1", "X-Two", "2", "User-Agent", "parity/1"}
	h1 := append(slices.Clone(common), "Cookie", "a=1; b=2")
	h2 := append(slices.Clone(common), "cookie", "a=1", "cookie", "b=2", "te", "trailers")
	for _, route := range []string{"/dyn/req", "/c/req"} {
		var got [][]testenv.Field
		for i, p := range protos {
			extra := h1
			if p.h2 {
				extra = h2
			}
			target := fmt.Sprintf("%s/%d?q=1", route, i)
			before := len(o.Requests())
			if a := p.ask(t, "GET", target, extra...); a.status != 200 {
				t.Fatalf("%s %s: %d", p.name, target, a.status)
			}
			reqs := o.Requests()
			if len(reqs) != before+1 {
				t.Fatalf("%s %s: the origin got %d requests, want 1", p.name, target, len(reqs)-before)
			}
			got = append(got, reqs[before].Header)
		}
		for i, g := range got {
			t.Logf("%s %s: %q", route, protos[i].name, g)
		}
		want := originFields(got[0])
		for i, g := range got[1:] {
			have := originFields(g)
			for _, name := range unionNames(want, have) {
				if !slices.Equal(want[name], have[name]) {
					t.Errorf("%s, %s: the origin got %s %q, over HTTP/1.1 %q", route, protos[i+1].name, name, have[name], want[name])
				}
			}
		}
	}
}

// originFields groups a request's fields by lowercased name, values in order, leaving out
// the fields that say the scheme the client used.
func originFields(fields []testenv.Field) map[string][]string {
	out := map[string][]string{}
	for _, f := range fields {
		name := strings.ToLower(f.Name)
		switch name {
		case "x-forwarded-proto", "forwarded", "via":
			continue
		}
		out[name] = append(out[name], f.Value)
	}
	return out
}

func unionNames(a, b map[string][]string) []string {
	var names []string
	for k := range a {
		names = append(names, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	return names
}
