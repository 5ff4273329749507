package edge

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// fieldLines is n field lines "X-F<i>: v", CRLF after each.
func fieldLines(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "X-F%d: v\r\n", i)
	}
	return b.String()
}

// TestNode_maxhdrBoundsFieldLines: limits.maxhdr (HAProxy's tune.http.maxhdr, default 101)
// bounds the field lines of an HTTP/1.1 head, Host included: one more gets 431 and the
// connection closed, and nothing of it or after it reaches the origin; a reload that lowers it
// applies to the next request. Before, only max_header_bytes bounded a head: 400 four-byte
// fields went to the origin.
func TestNode_maxhdrBoundsFieldLines(t *testing.T) {
	origin := startRawLogOrigin(t)
	n := startNode(t, hostileConfig(origin.URL, ""), Options{})
	head := func(path string, fields int) string {
		return "GET " + path + " HTTP/1.1\r\nHost: www.test\r\n" + fieldLines(fields-1) + "\r\n"
	}
	cases := []struct {
		name, raw, status string
		reaches           bool
	}{
		{"101 lines, the default", head("/dyn/101", 101) + smuggled, "200", true},
		{"102 lines", head("/dyn/102", 102) + smuggled, "431", false},
		{"400 four-byte lines", "GET /dyn/400 HTTP/1.1\r\nHost: www.test\r\n" + strings.Repeat("a:\r\n", 399) + "\r\n" + smuggled, "431", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := len(origin.requests())
			out, closed := converse(t, n.HTTPAddr(), tc.raw, 2*time.Second)
			lines := statusLines(out)
			if len(lines) == 0 || !strings.Contains(lines[0], " "+tc.status+" ") {
				t.Fatalf("answers %q, want %s first", lines, tc.status)
			}
			got := origin.requests()[before:]
			if !tc.reaches {
				if !closed || len(lines) > 1 {
					t.Errorf("answers %q, closed %v: want one answer and the connection closed", lines, closed)
				}
				if len(got) > 0 {
					t.Errorf("the origin received %q", got[0].line)
				}
			} else if len(got) == 0 || len(got[0].values("X-F99")) != 1 {
				t.Errorf("the origin received %v, want the request with its fields", got)
			}
		})
	}

	if err := reloadConfig(t, n, hostileConfig(origin.URL, "limits: {maxhdr: 10}\n")); err != nil {
		t.Fatal(err)
	}
	for fields, status := range map[int]string{10: "200", 11: "431"} {
		out, _ := converse(t, n.HTTPAddr(), head(fmt.Sprintf("/dyn/reloaded-%d", fields), fields)+"Connection: close\r\n\r\n", 2*time.Second)
		if lines := statusLines(out); len(lines) == 0 || !strings.Contains(lines[0], " "+status+" ") {
			t.Errorf("after a reload to maxhdr 10, %d lines: %q, want %s", fields, lines, status)
		}
	}
}

// TestAttack_http2MaxhdrBoundsFields: HTTP/2 HEADERS with more regular fields than
// limits.maxhdr get 431, never reaching the origin, as on HTTP/1.1; the crumbs of a split
// cookie (RFC 9113 section 8.2.3: browsers send one field per cookie) count once. Before,
// only SETTINGS_MAX_HEADER_LIST_SIZE bounded a block: 500 empty fields went through.
func TestAttack_http2MaxhdrBoundsFields(t *testing.T) {
	origin := startRawLogOrigin(t)
	n, _, _ := tlsNode(t, origin.URL, "")
	req := func(path string, fields, cookies int) [][2]string {
		f := [][2]string{{":method", "GET"}, {":scheme", "https"}, {":path", path}, {":authority", "www.test"}}
		for i := range fields {
			f = append(f, [2]string{fmt.Sprintf("x-f%d", i), "v"})
		}
		for i := range cookies {
			f = append(f, [2]string{"cookie", fmt.Sprintf("c%d=v", i)})
		}
		return f
	}
	cases := []struct {
		name    string
		fields  [][2]string
		status  string
		reaches bool
	}{
		{"101 fields", req("/h2/101", 101, 0), "200", true},
		{"102 fields", req("/h2/102", 102, 0), "431", false},
		{"500 fields", req("/h2/500", 500, 0), "431", false},
		{"100 fields and 40 cookie crumbs", req("/h2/crumbs", 100, 40), "200", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := len(origin.requests())
			if status := h2Status(t, n.HTTPSAddr(), tc.fields); status != tc.status {
				t.Errorf("status %q, want %s", status, tc.status)
			}
			if got := origin.requests()[before:]; tc.reaches != (len(got) == 1) {
				t.Errorf("origin received %d requests, want reached=%v", len(got), tc.reaches)
			}
		})
	}
}
