package edge

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestNode_varyOverSeveralLinesKeepsEveryName: an origin's Vary on two lines ("Cookie", then
// "X-Device") is one list (RFC 9110 section 5.3); when the node compresses and adds
// Accept-Encoding, every name the origin listed is still in the answer, on the miss that
// compresses as it streams and on the hit from the stored variant. Failed before: adding
// Accept-Encoding replaced the Vary lines with the first one plus Accept-Encoding, so
// downstream caches would have shared one answer across devices.
func TestNode_varyOverSeveralLinesKeepsEveryName(t *testing.T) {
	text := strings.Repeat("body { color: #123456; margin: 0 auto; }\n", 200)
	n, _ := compressionNode(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css")
		w.Header().Set("Cache-Control", "max-age=600")
		w.Header().Add("Vary", "Cookie")
		w.Header().Add("Vary", "X-Device")
		io.WriteString(w, text)
	})
	url := "http://" + n.HTTPAddr() + "/v.css"
	for _, round := range []string{"miss", "hit", "hit again"} {
		_, h, _ := rawGet(t, url, "Accept-Encoding", "gzip")
		names := map[string]bool{}
		for _, line := range h.Values("Vary") {
			for _, name := range strings.Split(line, ",") {
				names[strings.ToLower(strings.TrimSpace(name))] = true
			}
		}
		for _, want := range []string{"cookie", "x-device", "accept-encoding"} {
			if !names[want] {
				t.Errorf("%s: Vary %q lacks %s", round, h.Values("Vary"), want)
			}
		}
		n.settleFills()
	}
}
