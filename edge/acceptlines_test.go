package edge

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestNode_acceptEncodingOverSeveralLines: a field sent on several lines is one list (RFC
// 9110 section 5.3), so "Accept-Encoding: br" then "Accept-Encoding: gzip" accepts gzip on
// the miss that compresses as it streams and on the hit that serves a stored variant.
// Failed before: only the first line was read, and both answers were identity.
func TestNode_acceptEncodingOverSeveralLines(t *testing.T) {
	text := strings.Repeat("body { color: #123456; margin: 0 auto; }\n", 200)
	n, _ := compressionNode(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css")
		w.Header().Set("Cache-Control", "max-age=600")
		io.WriteString(w, text)
	})
	raw := "GET /two.css HTTP/1.1\r\nHost: site.test\r\nAccept-Encoding: br\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n"
	for _, round := range []string{"miss", "hit"} {
		out := rawResponse(t, n.HTTPAddr(), raw)
		head, _, _ := strings.Cut(out, "\r\n\r\n")
		if !strings.Contains(strings.ToLower(head), "content-encoding: gzip") {
			t.Errorf("%s: not gzip for two Accept-Encoding lines:\n%s", round, head)
		}
		n.settleFills()
	}
}
