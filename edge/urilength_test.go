package edge

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestNode_requestLineOverTheLimitIs414: with limits.max_header_bytes at 4 KiB, a head whose
// request line alone does not fit is answered 414 (URI Too Long, RFC 9110 section 15.5.15;
// nginx answers a request line longer than its buffer so), whether the limit falls in its
// path or in its version; a head whose request line fits and whose fields do not is
// answered 431 (RFC 6585 section 5): a long Host, a long field name, a long value, many
// fields, a request line exactly at the limit (and one over it by its line end alone, which
// cannot be told from a field's). A head of exactly the limit is served. Every
// refusal closes the connection and reaches no origin. Failed before: every overflow was 431.
func TestNode_requestLineOverTheLimitIs414(t *testing.T) {
	const limit = 4096
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {})
	n := startNode(t, "limits: {max_header_bytes: 4KiB}\n"+oneRoute(false, origin.URL), Options{})
	const fields = "Host: www.example.com\r\n\r\n"
	// line is a request line of exactly k bytes, CR LF included.
	line := func(k int) string {
		const frame = "GET / HTTP/1.1\r\n"
		return "GET /" + strings.Repeat("a", k-len(frame)) + " HTTP/1.1\r\n"
	}
	many := ""
	for i := 0; len(many) < 2*limit; i++ {
		many += fmt.Sprintf("X-Field-%d: v\r\n", i)
	}
	pad := func(total int) string { // a head of total bytes whose fields are padded
		head := "GET / HTTP/1.1\r\nHost: www.example.com\r\nX-Pad: \r\n\r\n"
		return strings.Replace(head, "X-Pad: ", "X-Pad: "+strings.Repeat("p", total-len(head)), 1)
	}
	for _, tc := range []struct{ name, raw, status string }{
		{"20 KB URI", line(20<<10) + fields, "414"},
		{"the limit in the path", line(limit+100) + fields, "414"},
		{"the whole version past the limit", line(limit+11) + fields, "414"},
		{"the version's last digit past the limit", line(limit+3) + fields, "414"},
		{"a POST's long URI", strings.Replace(line(8<<10), "GET", "POST", 1) + "Host: www.example.com\r\nContent-Length: 2\r\n\r\nok", "414"},
		{"request line exactly at the limit", line(limit) + fields, "431"},
		// Only its CR LF or its LF past the limit: nothing of the line to tell it by (see
		// urilength.go), so the fields' answer.
		{"request line over by its CR LF", line(limit+2) + fields, "431"},
		{"request line over by its LF", line(limit+1) + fields, "431"},
		{"long Host", "GET / HTTP/1.1\r\nHost: " + strings.Repeat("h", 8<<10) + ".example.com\r\n\r\n", "431"},
		{"long field name", "GET / HTTP/1.1\r\nHost: www.example.com\r\nX-" + strings.Repeat("n", 8<<10) + ": v\r\n\r\n", "431"},
		{"long field value", "GET / HTTP/1.1\r\nHost: www.example.com\r\nCookie: " + strings.Repeat("c", 8<<10) + "\r\n\r\n", "431"},
		{"many fields", "GET / HTTP/1.1\r\nHost: www.example.com\r\n" + many + "\r\n", "431"},
		{"a head one byte over the limit", pad(limit + 1), "431"},
	} {
		out := rawResponse(t, n.HTTPAddr(), tc.raw)
		if !strings.HasPrefix(out, "HTTP/1.1 "+tc.status+" ") || !strings.Contains(out, "Connection: close") {
			t.Errorf("%s: %q, want %s, closing", tc.name, statusLine(out), tc.status)
		}
	}
	if got := origin.requests.Load(); got != 0 {
		t.Fatalf("refused heads reached the origin %d times", got)
	}
	if out := rawRequest(t, n.HTTPAddr(), pad(limit)); !strings.HasPrefix(out, "HTTP/1.1 200 ") {
		t.Fatalf("a head of exactly the limit: %q, want 200", out)
	}
}

// TestLineEndsRequestLine: what follows the limit, read up to its first LF, is the end of a
// request line when it ends in " HTTP/d.d", or is the end of that suffix.
func TestLineEndsRequestLine(t *testing.T) {
	for rest, want := range map[string]bool{
		"aaaa HTTP/1.1\r\nHost: x\r\n\r\n": true,
		" HTTP/1.0\r\n":                    true,
		"1\r\n":                            true,
		".1\r\n":                           true,
		"HTTP/1.1\n":                       true,
		"\r\n":                             false, // only the line end: says nothing
		"\n":                               false,
		"xxxx\r\nHost: x\r\n\r\n":          false,
		"x HTTP/1.x\r\n":                   false,
		"aaaa HTTP/1.1":                    false, // no line end within reach
		"":                                 false,
	} {
		if got := lineEndsRequestLine(strings.NewReader(rest), 1<<10); got != want {
			t.Errorf("%q: %v, want %v", rest, got, want)
		}
	}
	long := strings.Repeat("a", 10000) + " HTTP/1.1\r\n"
	if !lineEndsRequestLine(strings.NewReader(long), 1<<20) || lineEndsRequestLine(strings.NewReader(long), 5000) {
		t.Error("a line end past many reads is found within the bound only")
	}
}
