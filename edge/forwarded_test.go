package edge

import (
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

func TestMayBeProxyOnly_coversTheList(t *testing.T) {
	for _, name := range append(append(append([]string(nil), proxyOnlyFields...), nodeOnlyFields...), internalFields...) {
		for _, k := range []string{name, strings.ToLower(name), strings.ToUpper(name), strings.ReplaceAll(name, "-", "_")} {
			if !mayBeProxyOnly([]byte(k)) {
				t.Errorf("%q would be passed over", k)
			}
		}
	}
}

// TestSetForwardingFields_oneLineEach: list fields are joined across lines and names of any
// case; an IPv6 client is quoted in Forwarded (RFC 7239 section 6).
func TestSetForwardingFields_oneLineEach(t *testing.T) {
	var h fasthttp.RequestHeader
	h.DisableNormalizing()
	h.Add("x-forwarded-for", "a")
	h.Add("X-Forwarded-For", "")
	h.Add("X-FORWARDED-FOR", "b, c")
	h.Add("x-forwarded-proto", "evil")
	h.Add("via", "1.1 front")
	setForwardingFields(&h, "2001:db8::1", "https", "1.1 edge")
	want := map[string]string{
		"X-Forwarded-For":   "a, b, c, 2001:db8::1",
		"X-Forwarded-Proto": "https",
		"Forwarded":         `for="[2001:db8::1]";proto=https`,
		"Via":               "1.1 front, 1.1 edge",
	}
	got := map[string][]string{}
	for k, v := range h.All() {
		got[strings.ToLower(string(k))] = append(got[strings.ToLower(string(k))], string(v))
	}
	for name, v := range want {
		if lines := got[strings.ToLower(name)]; len(lines) != 1 || lines[0] != v {
			t.Errorf("%s: %q, want one line %q", name, lines, v)
		}
	}
}

func BenchmarkDropProxyOnlyFields(b *testing.B) {
	var h fieldList
	h.Reset()
	for _, f := range []string{"User-Agent", "Accept", "Accept-Encoding", "Accept-Language", "Cookie", "Referer", "X-Requested-With"} {
		h.Add(f, "v")
	}
	b.ReportAllocs()
	for b.Loop() {
		dropProxyOnlyFields(&h, false)
	}
}

func BenchmarkParseTarget(b *testing.B) {
	host := []byte("www.example.com")
	uri := []byte("/wp-content/themes/site/style.css?ver=6.4")
	b.ReportAllocs()
	for b.Loop() {
		parseTarget("http", uri, host, 1, true)
	}
}

// TestPrepareOriginRequest_dropsFieldsEveryConnectionLineNames: RFC 9110 section 7.6.1, with
// Connection split over lines of any case; the request line says HTTP/1.1 whatever the client
// spoke.
func TestPrepareOriginRequest_dropsFieldsEveryConnectionLineNames(t *testing.T) {
	var req fasthttp.Request
	req.Header.DisableNormalizing()
	req.Header.SetProtocol("HTTP/1.0")
	req.Header.Add("connection", "x-a")
	req.Header.Add("Connection", "X-B, keep-alive")
	req.Header.Add("X-A", "1")
	req.Header.Add("x-b", "2")
	req.Header.Add("X-C", "3")
	prepareOriginRequest(&req, "192.0.2.1", "http", "1.1 edge")
	for k := range req.Header.All() {
		if n := strings.ToLower(string(k)); n == "x-a" || n == "x-b" || n == "connection" {
			t.Errorf("%s reached the origin", k)
		}
	}
	if string(req.Header.Peek("X-C")) != "3" || string(req.Header.Protocol()) != "HTTP/1.1" {
		t.Errorf("X-C %q, protocol %q", req.Header.Peek("X-C"), req.Header.Protocol())
	}
}
