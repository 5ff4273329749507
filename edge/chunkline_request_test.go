package edge

import (
	"strings"
	"testing"
	"time"
)

// TestNode_requestChunkLinesAreHeldToTheGrammar: RFC 9112 section 7.1.1. A chunk size line of
// a client's chunked content with whitespace after the size and no extension ("5 "), or an
// extension that is no token ("5;a b"), gets 400 with the connection closed, and nothing of
// the request, nor the request hidden after it, reaches the origin: nginx and HAProxy refuse
// both, so a front proxy that frames them another way would smuggle. So do a trailer line the
// head's walk refuses and a framing field in the trailer. The grammar's valid forms still
// pass, on a pass route and through 100-continue, with the connection closed after the
// answer. Before, fasthttp took "5 " and "5;a b" for 5, and the smuggled request was sent.
func TestNode_requestChunkLinesAreHeldToTheGrammar(t *testing.T) {
	origin := startRawLogOrigin(t)
	n := startNode(t, hostileConfig(origin.URL, ""), Options{})
	post := func(path, extra, content string) string {
		return "POST " + path + " HTTP/1.1\r\nHost: www.test\r\nTransfer-Encoding: chunked\r\n" + extra + "\r\n" + content
	}
	big := strings.Repeat("x", 20<<10)
	cases := []struct {
		name, raw string
		body      string // what the origin must receive; "" when it must receive nothing
	}{
		{"space after the size", post("/dyn/a", "", "5 \r\nhello\r\n0\r\n\r\n") + smuggled, ""},
		{"tab after the size", post("/dyn/b", "", "5\t\r\nhello\r\n0\r\n\r\n") + smuggled, ""},
		{"extension with a space", post("/dyn/c", "", "5;a b\r\nhello\r\n0\r\n\r\n") + smuggled, ""},
		{"extension without a name", post("/dyn/d", "", "5;\r\nhello\r\n0\r\n\r\n") + smuggled, ""},
		{"last chunk with a space", post("/dyn/e", "", "5\r\nhello\r\n0 \r\n\r\n") + smuggled, ""},
		{"bad line after the prefetch", post("/dyn/f", "", "5000\r\n"+big[:0x5000]+"\r\n5 \r\nhello\r\n0\r\n\r\n") + smuggled, ""},
		{"trailer obs-fold", post("/dyn/g", "", "5\r\nhello\r\n0\r\nX-A: a\r\n b\r\n\r\n") + smuggled, ""},
		{"trailer bare LF", post("/dyn/h", "", "5\r\nhello\r\n0\r\nX-A: a\n\r\n") + smuggled, ""},
		{"trailer Content-Length", post("/dyn/i", "", "5\r\nhello\r\n0\r\nContent-Length: 40\r\n\r\n") + smuggled, ""},
		{"expect 100, space after the size", post("/dyn/j", "Expect: 100-continue\r\n", "5 \r\nhello\r\n0\r\n\r\n") + smuggled, ""},
		{"valid extensions", post("/dyn/ok1", "", "5;a=b;c=\"d e\"\r\nhello\r\n0\r\nX-T: 1\r\n\r\n"), "hello"},
		{"space before the extension", post("/dyn/ok2", "", "5 ;a\r\nhello\r\n0\r\n\r\n"), "hello"},
		{"expect 100", post("/dyn/ok3", "Expect: 100-continue\r\n", "5\r\nhello\r\n0\r\n\r\n"), "hello"},
		{"streamed past the prefetch", post("/dyn/ok4", "", "5000\r\n"+big[:0x5000]+"\r\n0\r\n\r\n"), big[:0x5000]},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := len(origin.requests())
			out, closed := converse(t, n.HTTPAddr(), tc.raw, 3*time.Second)
			lines := statusLines(out)
			got := origin.requests()[before:]
			want := " 400 "
			if tc.body != "" {
				want = " 200 "
			}
			if len(lines) == 0 || !strings.Contains(lines[len(lines)-1], want) {
				t.Errorf("answers %q, want%s last", lines, want)
			}
			if !closed {
				t.Error("the connection stayed open")
			}
			switch {
			case tc.body == "" && len(got) > 0 && (got[0].body == "hello" || len(got) > 1):
				t.Errorf("the origin received %d requests, first %q with %d bytes", len(got), got[0].line, len(got[0].body))
			case tc.body != "" && (len(got) != 1 || got[0].body != tc.body):
				t.Errorf("the origin received %d requests, want one with the content", len(got))
			}
		})
	}
}
