package edge

import (
	"strings"
	"testing"
	"time"
)

// TestCluster_peerPortReadsNoChunkedContent: the peer port never decodes chunked content
// (no member sends any), so a size line fasthttp's lenient decoder took ("5 ", "5;a b") can
// smuggle nothing there: a member's chunked request gets 400, the connection closed, and
// neither it nor the request behind it reaches the origin; a stranger's is refused 403 as
// before; a member's request with a Content-Length is still served. Failed before: "5 " and
// "5;a b" were read as a chunk of 5, sent to the origin and answered 200.
func TestCluster_peerPortReadsNoChunkedContent(t *testing.T) {
	origin := startRawLogOrigin(t)
	nodes := startCluster(t, 1, origin.URL)
	addr := nodes[0].PeerAddr()
	const secret = peerSecretHeader + ": cluster-secret-for-tests-0123456789\r\n"
	post := func(path, fields, content string) string {
		return "POST " + path + " HTTP/1.1\r\nHost: www.test\r\n" + fields + "\r\n" + content
	}
	const chunked = "Transfer-Encoding: chunked\r\n"
	cases := []struct {
		name, raw, want string
		reaches         int // requests the origin must receive
	}{
		{"space after the size", post("/dyn/a", secret+chunked, "5 \r\nhello\r\n0\r\n\r\n") + smuggled, " 400 ", 0},
		{"extension with a space", post("/dyn/b", secret+chunked, "5;a b\r\nhello\r\n0\r\n\r\n") + smuggled, " 400 ", 0},
		{"valid chunks", post("/dyn/c", secret+chunked, "5\r\nhello\r\n0\r\n\r\n") + smuggled, " 400 ", 0},
		{"stranger", post("/dyn/d", chunked, "5\r\nhello\r\n0\r\n\r\n") + smuggled, " 403 ", 0},
		{"content length", post("/dyn/e", secret+"Content-Length: 5\r\n", "hello"), " 200 ", 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := len(origin.requests())
			out, closed := converse(t, addr, tc.raw, 3*time.Second)
			lines := statusLines(out)
			if len(lines) != 1 || !strings.Contains(lines[0], tc.want) {
				t.Errorf("answers %q, want one%s", lines, tc.want)
			}
			if tc.reaches == 0 && !closed {
				t.Error("the connection stayed open")
			}
			if got := origin.requests()[before:]; len(got) != tc.reaches {
				t.Errorf("the origin received %d requests, want %d", len(got), tc.reaches)
			}
		})
	}
}
