package edge

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

// The answers a node makes before it routes a request, the maintenance 503 and the 413 of
// limits.max_body_bytes (fasthttp refuses the body before the handler runs), carry what the
// node's other answers carry: the error page of their status and the response fields of the
// route the request matches. Before, the 413 had neither and the 503 no route fields.
func TestOwnAnswers_maintenanceAndNodeBodyLimitCarryPagesAndRouteFields(t *testing.T) {
	ngx := testenv.StartNginx(t, testenv.NginxOptions{Extra: `location / { return 200 "up\n"; }`})
	dir := t.TempDir()
	page503, page413 := filepath.Join(dir, "503.html"), filepath.Join(dir, "413.html")
	os.WriteFile(page503, []byte("<h1>We will be back</h1>"), 0o644)
	os.WriteFile(page413, []byte("<h1>Too big</h1>"), 0o644)
	routes := `  - match: {path_prefix: /site/}
    origin: o
    headers:
      response: {set: {Strict-Transport-Security: "max-age=31536000", X-Served-By: "${node}"}}
  - match: {path_prefix: /}
    origin: o
`
	for _, maintenance := range []bool{false, true} {
		n := policyNode(t, ngx.URL, routes, fmt.Sprintf("limits: {max_body_bytes: 1KiB}\nerror_pages: {503: %s, 413: %s, maintenance: %v}\n", page503, page413, maintenance))
		base := "http://" + n.HTTPAddr()
		if !maintenance {
			status, h, body := do(t, "POST", base+"/site/form", strings.Repeat("x", 4096))
			if status != 413 || body != "<h1>Too big</h1>" || !strings.HasPrefix(h.Get("Content-Type"), "text/html") {
				t.Errorf("body over limits.max_body_bytes: %d %q %q", status, h.Get("Content-Type"), body)
			}
			if h.Get("Strict-Transport-Security") == "" || h.Get("X-Served-By") != "edge-p" {
				t.Errorf("the node's 413 on /site/ lacks the route's response fields: %v", h)
			}
			if status, h, _ := do(t, "POST", base+"/other", strings.Repeat("x", 4096)); status != 413 || h.Get("Strict-Transport-Security") != "" {
				t.Errorf("413 on a route without fields: %d %v", status, h)
			}
			if status, _, body := do(t, "POST", base+"/site/form", "small"); status != 200 || body != "up\n" {
				t.Errorf("a body under the limit: %d %q", status, body)
			}
			continue
		}
		status, h, body := do(t, "GET", base+"/site/page", "")
		if status != 503 || body != "<h1>We will be back</h1>" || h.Get("Retry-After") == "" {
			t.Errorf("maintenance: %d %q", status, body)
		}
		if h.Get("Strict-Transport-Security") == "" || h.Get("X-Served-By") != "edge-p" {
			t.Errorf("the maintenance 503 on /site/ lacks the route's response fields: %v", h)
		}
		// A target the node refuses matches no route: the page alone.
		if line := rawRequest(t, n.HTTPAddr(), "GET /site/../x HTTP/1.1\r\nHost: a\r\n\r\n"); !strings.HasPrefix(line, "HTTP/1.1 503") {
			t.Errorf("maintenance, refused target: %q", line)
		}
	}
	if got := ngx.Requests("/site/"); got != 1 {
		t.Errorf("the origin saw /site/ %d times, want once (the small POST)", got)
	}
}
