package httpcache

import (
	"strings"
	"testing"
)

// missHead is the head a fill stores for a typical static object: nginx's fields, a
// validator pair, the origin's Cache-Control and two fields of its own (one a name the
// PackedHeader table does not know).
func missHead() Header {
	return hdr("Server", "nginx/1.22.1", "Date", "Mon, 30 Nov 2026 22:13:24 GMT",
		"Content-Type", "application/octet-stream", "Last-Modified", "Mon, 30 Nov 2026 21:00:00 GMT",
		"ETag", `"692cb2d0-400"`, "Cache-Control", "public, max-age=3600", "Accept-Ranges", "bytes",
		"X-Request-Id", "4f1c2d9e8b7a", "Vary", "Accept-Encoding")
}

// BenchmarkPack is the stored header of every miss frozen into its PackedHeader.
// Run: go test -run '^$' -bench 'Pack|Storable' -benchmem ./httpcache/
func BenchmarkPack(b *testing.B) {
	h := missHead()
	b.ReportAllocs()
	for b.Loop() {
		_ = Pack(h)
	}
}

// BenchmarkPolicy_Storable is a miss's storability decision for the head above.
func BenchmarkPolicy_Storable(b *testing.B) {
	p := Policy{}
	r := Response{Status: 200, Header: missHead(), RequestTime: t0, ResponseTime: t0}
	req := getReq("Accept-Encoding", "gzip")
	b.ReportAllocs()
	for b.Loop() {
		p.Storable(req, r)
	}
}

// A miss decides storability without allocating when the origin's directives are in
// Cache-Control, Surrogate-Control or a one-line targeted field, and Pack allocates its one
// string. Several lines of a targeted field are joined (one allocation): RFC 9213 section 2.1
// parses them as one Dictionary.
func TestPolicy_StorableDoesNotAllocate(t *testing.T) {
	p := Policy{}
	req := getReq("Accept-Encoding", "gzip")
	for _, tc := range []struct {
		name   string
		fields []string
	}{
		{"Cache-Control", []string{"Cache-Control", "public", "cache-control", "max-age=60"}},
		{"Surrogate-Control", []string{"Surrogate-Control", "max-age=60", "Cache-Control", "no-store"}},
		{"CDN-Cache-Control", []string{"CDN-Cache-Control", "max-age=60", "Cache-Control", "no-store"}},
		{"Shoal-Cache-Control", []string{"Shoal-Cache-Control", "max-age=60", "Cache-Control", "private"}},
		{"Vary", []string{"Cache-Control", "max-age=60", "Vary", "Accept-Encoding", "vary", "Accept-Language"}},
		{"Authorization", []string{"Surrogate-Control", "max-age=60", "Cache-Control", "public"}},
	} {
		r := resp(200, tc.fields...)
		rq := req
		if tc.name == "Authorization" {
			rq = getReq("Authorization", "Basic eDp5")
		}
		if d := p.Storable(rq, r); !d.Store {
			t.Fatalf("%s: not stored: %s", tc.name, d.Reason)
		}
		if n := testing.AllocsPerRun(100, func() { p.Storable(rq, r) }); n != 0 {
			t.Errorf("%s: Storable allocates %v times per call", tc.name, n)
		}
	}
	h := missHead()
	if n := testing.AllocsPerRun(100, func() { _ = Pack(h) }); n != 1 {
		t.Errorf("Pack allocates %v times per call, want 1", n)
	}
}

// The hop-by-hop fields of RFC 9110 section 7.6.1 and RFC 9111 section 3.1 in any case, and
// their neighbours of the same length that are end-to-end.
func TestHopByHop_namesOfEachLength(t *testing.T) {
	hop := []string{"Connection", "Keep-Alive", "Proxy-Connection", "TE", "Transfer-Encoding", "Upgrade",
		"Trailer", "Proxy-Authenticate", "Proxy-Authentication-Info", "Proxy-Authorization"}
	for _, n := range hop {
		for _, spelled := range []string{n, strings.ToLower(n), strings.ToUpper(n)} {
			if !hopByHop(spelled) {
				t.Errorf("hopByHop(%q) = false", spelled)
			}
		}
	}
	for _, n := range []string{"", "T", "TEE", "Te-", "Upgrades", "Trailers", "Upgrad", "Connectio", "Keep-Alivex",
		"Content-Encoding", "X-Connection", "Proxy-Connectio", "Transfer-Encodinx", "Proxy-Authorizatio",
		"Proxy-Authentication-Inf", "WWW-Authenticate", "Authorization", "Last-Modified", "Cache-Control"} {
		if hopByHop(n) {
			t.Errorf("hopByHop(%q) = true", n)
		}
	}
}

// BenchmarkStripUnstorable is the fields a miss stores, none of them dropped.
func BenchmarkStripUnstorable(b *testing.B) {
	h := missHead()
	b.ReportAllocs()
	for b.Loop() {
		_ = StripUnstorable(h, StoreDecision{Store: true})
	}
}
