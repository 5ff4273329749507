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
	var h fieldList
	h.Reset()
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

// TestSetForwardingFields_fourLinesAfterTheClients: a request with none of the forwarding
// fields gets exactly the lines the general path writes, in its order, after the client's
// own; neither path allocates, an IPv6 client's long Forwarded element included.
func TestSetForwardingFields_fourLinesAfterTheClients(t *testing.T) {
	for _, tt := range []struct {
		ip, forwarded string
		prior         []string // a forwarding field the client sent: the general path
	}{
		{"192.0.2.1", "for=192.0.2.1;proto=https", nil},
		{"2001:db8:1234:5678:9abc:def0:1234:5678", `for="[2001:db8:1234:5678:9abc:def0:1234:5678]";proto=https`, nil},
		{"192.0.2.1", "for=192.0.2.1;proto=https", []string{"via", "1.1 front"}},
	} {
		var h fieldList
		fill := func() {
			h.Reset()
			h.Add("Accept", "*/*")
			if tt.prior != nil {
				h.Add(tt.prior[0], tt.prior[1])
			}
			h.Add("User-Agent", "wrk")
		}
		fill()
		setForwardingFields(&h, tt.ip, "https", "1.1 edge")
		var got []string
		for k, v := range h.All() {
			got = append(got, string(k)+": "+string(v))
		}
		via := "1.1 edge"
		if tt.prior != nil {
			via = "1.1 front, 1.1 edge"
		}
		want := []string{"Accept: */*", "User-Agent: wrk", "X-Forwarded-For: " + tt.ip, "X-Forwarded-Proto: https",
			"Forwarded: " + tt.forwarded, "Via: " + via}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s %v:\n%s\nwant\n%s", tt.ip, tt.prior, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if tt.prior == nil {
			if n := testing.AllocsPerRun(100, func() { fill(); setForwardingFields(&h, tt.ip, "https", "1.1 edge") }); n != 0 {
				t.Errorf("%s: %v allocations, want 0", tt.ip, n)
			}
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
		dropProxyOnlyFields(&h, false, false)
	}
}

func BenchmarkParseTarget(b *testing.B) {
	host := []byte("www.example.com")
	uri := []byte("/wp-content/themes/site/style.css?ver=6.4")
	b.ReportAllocs()
	for b.Loop() {
		parseTarget("http", uri, host, 1, http11)
	}
}

// TestOutgoing_dropsFieldsEveryConnectionLineNames: RFC 9110 section 7.6.1, with Connection
// split over lines of any case; the request line says HTTP/1.1 whatever the client spoke.
func TestOutgoing_dropsFieldsEveryConnectionLineNames(t *testing.T) {
	var in fieldList
	in.Reset()
	in.setMethod("GET")
	in.SetRequestURI("/")
	in.SetHost("h.example")
	in.setProtocol("HTTP/1.0")
	in.Add("connection", "x-a")
	in.Add("Connection", "X-B, keep-alive")
	in.Add("X-A", "1")
	in.Add("x-b", "2")
	in.Add("X-C", "3")
	x := &exchange{req: &in}
	out := x.outgoing()
	setForwardingFields(out, "192.0.2.1", "http", "1.1 edge")
	var req fasthttp.Request
	writeRequest(out, &req, nil, 0, nil)
	putOutgoing(out)
	head := req.Header.String()
	for _, n := range []string{"x-a:", "x-b:", "connection:"} {
		if strings.Contains(strings.ToLower(head), "\n"+n) {
			t.Errorf("%s reached the origin:\n%s", n, head)
		}
	}
	if !strings.Contains(head, "X-C: 3\r\n") || !strings.HasPrefix(head, "GET / HTTP/1.1\r\n") || !strings.Contains(head, "Host: h.example\r\n") {
		t.Errorf("head:\n%s", head)
	}
}

// TestSetForwardingFields_emptyListElementsAreDropped: RFC 9110 section 5.6.1. A recipient
// accepts empty list elements ("a, , b", a trailing comma, a lone comma), a sender never
// generates them: the one line the origin gets holds the client's non-empty elements, then
// the node's, so an origin that takes the element before the node's (or counts hops) reads
// what the client sent and not "". Commas inside a quoted string or a Via comment stay.
func TestSetForwardingFields_emptyListElementsAreDropped(t *testing.T) {
	cases := []struct{ name, sent, want string }{
		{"X-Forwarded-For", "a, , b", "a, b, 192.0.2.1"},
		{"X-Forwarded-For", "a,", "a, 192.0.2.1"},
		{"X-Forwarded-For", ",", "192.0.2.1"},
		{"X-Forwarded-For", " ,a ,, b,", "a, b, 192.0.2.1"},
		{"Forwarded", `for=a, ,for="x,y"`, `for=a, for="x,y", for=192.0.2.1;proto=http`},
		{"Via", "1.1 a (x,y),, 1.0 b,", "1.1 a (x,y), 1.0 b, 1.1 edge"},
		{"Forwarded", `for="a\`, `for="a\, for=192.0.2.1;proto=http`},
	}
	for _, tc := range cases {
		var h fieldList
		h.Reset()
		h.Add(tc.name, tc.sent)
		setForwardingFields(&h, "192.0.2.1", "http", "1.1 edge")
		var lines []string
		for k, v := range h.All() {
			if strings.EqualFold(string(k), tc.name) {
				lines = append(lines, string(v))
			}
		}
		if len(lines) != 1 || lines[0] != tc.want {
			t.Errorf("%s: %q: %q, want one line %q", tc.name, tc.sent, lines, tc.want)
		}
	}
}
