package edge

import (
	"fmt"
	"net/http"
	"testing"
)

// Behind a front proxy (trusted_proxies) every client reaches the node from the proxy's
// address, so a PURGE checked against purge.allow by that address let anyone on the
// internet purge through the proxy once its network was allowed (Varnish's documented
// client.ip trap). A PURGE from a trusted proxy is refused; purges go to the admin API.
func TestNode_purgeMethodThroughATrustedProxyIsRefused(t *testing.T) {
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		fmt.Fprint(w, "ok")
	})
	for _, tc := range []struct {
		extra string
		want  int
	}{
		{"", http.StatusOK},
		{"trusted_proxies: [\"10.0.0.0/8\"]\n", http.StatusOK}, // another proxy's network
		{"trusted_proxies: [\"127.0.0.1/32\"]\n", http.StatusForbidden},
	} {
		n := startNode(t, oneRoute(true, origin.URL)+"purge: {allow: [\"127.0.0.0/8\"]}\n"+tc.extra, Options{})
		if status, _, body := do(t, "PURGE", "http://"+n.HTTPAddr()+"/a.css", ""); status != tc.want {
			t.Errorf("%q: PURGE from 127.0.0.1: %d %q, want %d", tc.extra, status, body, tc.want)
		}
	}
}
