package edge

import (
	"strings"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

// TestNode_invalidStatusIsRelayedNotStored: RFC 9110 section 15, status codes outside
// 100..599 are invalid (libraries use 600..999 for errors of their own) and a recipient
// treats them as a 5xx. The client that asked gets the origin's answer as nginx relays it,
// and the store keeps nothing: each request goes to the origin.
func TestNode_invalidStatusIsRelayedNotStored(t *testing.T) {
	o := testenv.StartBadOrigin(t)
	n := startNode(t, hostileConfig(o.URL, ""), Options{})
	for _, code := range []string{"600", "999"} {
		path := "/c/status-" + code
		o.Script(path, testenv.Script{Raw: []byte("HTTP/1.1 " + code + " Odd\r\nCache-Control: public, max-age=60\r\nContent-Length: 2\r\n\r\nok")})
		for i := range 2 {
			out, _ := converse(t, n.HTTPAddr(), "GET "+path+" HTTP/1.1\r\nHost: www.test\r\nConnection: close\r\n\r\n", 2*time.Second)
			if !strings.HasPrefix(out, "HTTP/1.1 "+code) || !strings.HasSuffix(out, "\r\n\r\nok") {
				t.Errorf("%s request %d: %q, want the origin's answer", code, i, out)
			}
			n.settleFills()
		}
		if got := o.Count(path); got != 2 {
			t.Errorf("%s: origin asked %d times for two requests, want 2 (nothing stored)", code, got)
		}
	}
}
