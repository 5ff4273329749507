package edge

import (
	"testing"
)

func TestZZProbeH2(t *testing.T) {
	origin := startRawLogOrigin(t)
	n := startNode(t, `listen: {http: "127.0.0.1:0", h2c: "127.0.0.1:0", admin: "127.0.0.1:0"}
`+hostileConfig(origin.URL, ""), Options{})
	c := dialRawH2C(t, n.H2CAddr())
	P := func(m, a, p string) [][2]string {
		return [][2]string{{":method", m}, {":scheme", "http"}, {":authority", a}, {":path", p}}
	}
	cases := []struct {
		name   string
		fields [][2]string
	}{
		{"host conflicts", append(P("GET", "a.test", "/dyn/hc"), [2]string{"host", "b.test"})},
		{"host same", append(P("GET", "a.test", "/dyn/hs"), [2]string{"host", "a.test"})},
		{"host only", [][2]string{{":method", "GET"}, {":scheme", "http"}, {":path", "/dyn/ho"}, {"host", "a.test"}}},
		{"no host no authority", [][2]string{{":method", "GET"}, {":scheme", "http"}, {":path", "/dyn/none"}}},
		{"empty authority", P("GET", "", "/dyn/ea")},
		{"authority userinfo", P("GET", "u:p@a.test", "/dyn/ui")},
		{"path relative", P("GET", "a.test", "dyn/rel")},
		{"path asterisk GET", P("GET", "a.test", "*")},
		{"path asterisk OPTIONS", P("OPTIONS", "a.test", "*")},
		{"path absolute", P("GET", "a.test", "http://b.test/dyn/abs")},
		{"path with space", P("GET", "a.test", "/dyn/a b")},
		{"path with fragment", P("GET", "a.test", "/dyn/f#frag")},
		{"CONNECT", [][2]string{{":method", "CONNECT"}, {":authority", "a.test:443"}}},
		{"TRACE", P("TRACE", "a.test", "/dyn/trace")},
		{"method lower", P("get", "a.test", "/dyn/lower")},
		{"method with space", P("GET /x", "a.test", "/dyn/ms")},
		{"cookie crumbs", append(P("GET", "a.test", "/dyn/cookie"), [2]string{"cookie", "a=1"}, [2]string{"cookie", "b=2"})},
		{"te trailers", append(P("GET", "a.test", "/dyn/te"), [2]string{"te", "trailers"})},
		{"scheme https on h2c", [][2]string{{":method", "GET"}, {":scheme", "https"}, {":authority", "a.test"}, {":path", "/dyn/sch"}}},
		{"scheme ftp", [][2]string{{":method", "GET"}, {":scheme", "ftp"}, {":authority", "a.test"}, {":path", "/dyn/ftp"}}},
		{"obs-text value", append(P("GET", "a.test", "/dyn/obs"), [2]string{"x-a", "\xff"})},
		{"authority with path", P("GET", "a.test/x", "/dyn/ap")},
		{"authority port junk", P("GET", "a.test:8x", "/dyn/apj")},
		{"expect 100", append(P("GET", "a.test", "/dyn/exp"), [2]string{"expect", "100-continue"})},
		{"x-forwarded-for empty", append(P("GET", "a.test", "/dyn/xff"), [2]string{"x-forwarded-for", "a, ,b,"})},
		{"max-forwards 0 options", append(P("OPTIONS", "a.test", "/dyn/mf"), [2]string{"max-forwards", "0"})},
		{"http2-settings field", append(P("GET", "a.test", "/dyn/h2s"), [2]string{"http2-settings", "AAA"})},
	}
	id := uint32(1)
	for _, tc := range cases {
		c.open(id, true, tc.fields...)
		status, reset := c.outcome(id)
		t.Logf("%-28s status %q reset %v", tc.name, status, reset)
		id += 2
	}
	for _, r := range origin.requests() {
		t.Logf("origin: %s %q", r.line, r.fields)
	}
}
