package edge

import (
	"strings"
	"testing"
	"time"
)

// TestNode_unmetExpectationIs417: RFC 9110 section 10.1.1. An Expect field with an
// expectation other than 100-continue is answered 417 from the head, on HTTP/1.1 (the
// connection closed, its content unread) and HTTP/2, and nothing reaches the origin. An
// HTTP/1.0 request's expectation is ignored; 100-continue keeps working. Before, every
// other expectation was ignored and the request forwarded (Expect dropped) as if met.
func TestNode_unmetExpectationIs417(t *testing.T) {
	origin := startRawLogOrigin(t)
	n, _, _ := tlsNode(t, origin.URL, "")
	cases := []struct{ name, raw, status string }{
		{"GET 101-bogus", "GET /x/a HTTP/1.1\r\nHost: www.test\r\nExpect: 101-bogus\r\n\r\n" + smuggled, "417"},
		{"POST with content", "POST /x/b HTTP/1.1\r\nHost: www.test\r\nExpect: 101-bogus\r\nContent-Length: 5\r\n\r\nhello" + smuggled, "417"},
		{"lower-case name, second member", "POST /x/c HTTP/1.1\r\nHost: www.test\r\nexpect: 100-continue, foo=bar\r\nContent-Length: 5\r\n\r\nhello", "417"},
		{"second line", "GET /x/d HTTP/1.1\r\nHost: www.test\r\nExpect: 100-continue\r\nExpect: x\r\n\r\n", "417"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, closed := converse(t, n.HTTPAddr(), tc.raw, 3*time.Second)
			if lines := statusLines(out); len(lines) != 1 || !strings.Contains(lines[0], " "+tc.status+" ") {
				t.Errorf("answers %q, want one %s", lines, tc.status)
			}
			if !closed {
				t.Error("the connection stayed open after the 417")
			}
		})
	}
	if got := origin.requests(); len(got) > 0 {
		t.Fatalf("the origin received %q", got[0].line)
	}
	if st := h2Status(t, n.HTTPSAddr(), [][2]string{{":method", "GET"}, {":scheme", "https"}, {":path", "/x/h2"},
		{":authority", "www.test"}, {"expect", "101-bogus"}}); st != "417" {
		t.Errorf("HTTP/2: %q, want 417", st)
	}
	if got := origin.requests(); len(got) > 0 {
		t.Fatalf("the origin received %q", got[0].line)
	}
	// Met or ignored: forwarded, without the Expect field.
	if line := rawRequest(t, n.HTTPAddr(), "GET /x/e HTTP/1.0\r\nHost: www.test\r\nExpect: 101-bogus\r\n\r\n"); !strings.Contains(line, " 200 ") {
		t.Errorf("HTTP/1.0: %q, want 200 (expectation ignored)", line)
	}
	out, _ := converse(t, n.HTTPAddr(), "POST /x/f HTTP/1.1\r\nHost: www.test\r\nExpect: 100-continue\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello", 3*time.Second)
	if lines := statusLines(out); len(lines) != 2 || !strings.Contains(lines[0], " 100 ") || !strings.Contains(lines[1], " 200 ") {
		t.Errorf("100-continue: %q, want 100 then 200", lines)
	}
	for _, r := range origin.requests() {
		if len(r.values("Expect")) > 0 {
			t.Errorf("the origin received Expect: %q", r.values("Expect"))
		}
	}
}
