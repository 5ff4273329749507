package edge

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// TestH2Serve_contentThatArrivedWithItsHeaders: request content without content-length
// that arrives in the same write as its HEADERS (END_STREAM already received when the
// listener first sees the request) reaches the origin whole, as content with a
// content-length does; past limits.max_body_bytes it gets 413 either way. Failed before:
// the listener took "END_STREAM received" for "no content" and sent the origin an empty
// body.
func TestH2Serve_contentThatArrivedWithItsHeaders(t *testing.T) {
	var mu sync.Mutex
	got := map[string]string{}
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got[r.Method+" "+r.URL.Path] = string(b)
		mu.Unlock()
		w.Header().Set("Cache-Control", "no-store")
		fmt.Fprintf(w, "%d", len(b))
	})
	n, _ := h2Node(t, "limits: {max_body_bytes: 100}\n"+oneRoute(false, origin.URL))
	c := dialRawH2C(t, n.H2CAddr())
	id := uint32(1)
	for _, tc := range []struct {
		method   string
		size     int
		declared bool
		status   string
	}{
		{"POST", 1, false, "200"},
		{"POST", 100, false, "200"},
		{"POST", 100, true, "200"},
		{"POST", 101, false, "413"},
		{"POST", 101, true, "413"},
		{"PUT", 37, false, "200"},
		{"GET", 5, false, "200"},
	} {
		name := fmt.Sprintf("%s %d bytes, content-length %v", tc.method, tc.size, tc.declared)
		path := fmt.Sprintf("/%s-%d-%v", strings.ToLower(tc.method), tc.size, tc.declared)
		content := bytes.Repeat([]byte{'c'}, tc.size)
		// HEADERS and DATA with END_STREAM in one write.
		var out, block bytes.Buffer
		enc := hpack.NewEncoder(&block)
		for _, f := range [][2]string{{":method", tc.method}, {":scheme", "http"}, {":authority", "www.example.test"}, {":path", path}} {
			enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
		}
		if tc.declared {
			enc.WriteField(hpack.HeaderField{Name: "content-length", Value: fmt.Sprint(tc.size)})
		}
		fr := http2.NewFramer(&out, nil)
		fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: block.Bytes(), EndHeaders: true})
		fr.WriteData(id, true, content)
		c.c.Write(out.Bytes())
		fields, body, reset := c.response(id)
		id += 2
		if reset {
			t.Errorf("%s: stream reset", name)
			continue
		}
		if status := strings.Join(fields[":status"], ""); status != tc.status {
			t.Errorf("%s: status %s, want %s", name, status, tc.status)
			continue
		}
		mu.Lock()
		reached, asked := got[tc.method+" "+path]
		mu.Unlock()
		if tc.status == "200" && (!asked || reached != string(content) || string(body) != fmt.Sprint(tc.size)) {
			t.Errorf("%s: the origin received %d bytes (asked %v), want %d", name, len(reached), asked, tc.size)
		}
		if tc.status == "413" && asked {
			t.Errorf("%s: reached the origin", name)
		}
	}
}
