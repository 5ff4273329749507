package edge

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// TestH2Serve_hugeResponseFields: an origin's field value just under the origin client's
// header limit reaches an HTTP/2 client whole, on the miss and on the hit; one past it (up
// to 64 KiB) gets the same answer as over HTTP/1.1 (502), and the connection goes on to
// answer its next stream.
func TestH2Serve_hugeResponseFields(t *testing.T) {
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		k, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/h/"))
		w.Header().Set("X-Big", strings.Repeat("h", k))
		w.Header().Set("Cache-Control", "max-age=60")
		io.WriteString(w, "ok\n")
	})
	n, _ := h2Node(t, oneRoute(true, origin.URL))
	c := dialRawH2C(t, n.H2CAddr())
	id := uint32(1)
	for _, k := range []int{15 << 10, 17 << 10, 64 << 10} {
		path := "/h/" + strconv.Itoa(k)
		req, _ := http.NewRequest("GET", "http://"+n.HTTPAddr()+path, nil)
		req.Host = "www.example.test"
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		n.settleFills()
		for _, what := range []string{"first", "again"} {
			c.request(id, "GET", path, nil)
			fields, body, reset := c.response(id)
			id += 2
			status := strings.Join(fields[":status"], "")
			if reset || status != strconv.Itoa(resp.StatusCode) {
				t.Errorf("%d-byte field, %s: HTTP/2 %s (reset %v), HTTP/1.1 %d", k, what, status, reset, resp.StatusCode)
				continue
			}
			if status == "200" && (strings.Join(fields["x-big"], "") != strings.Repeat("h", k) || string(body) != "ok\n") {
				t.Errorf("%d-byte field, %s: %d-byte field, body %q", k, what, len(strings.Join(fields["x-big"], "")), body)
			}
		}
		if k == 15<<10 && resp.StatusCode != 200 {
			t.Errorf("a %d-byte field: HTTP/1.1 %d, want 200", k, resp.StatusCode)
		}
	}
	c.request(id, "GET", "/h/10", nil)
	if fields, _, _ := c.response(id); strings.Join(fields[":status"], "") != "200" {
		t.Errorf("the connection's next stream: %v", fields[":status"])
	}
}
