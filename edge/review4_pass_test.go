package edge

import (
	"strings"
	"testing"
	"time"
)

// The origin request's framing is the content's alone (RFC 9112 section 6): a route that
// sets Transfer-Encoding on requests (a configuration mistake) does not reach the origin,
// where it would frame a client's Content-Length body as chunks; such a body that parses as
// chunks would end early and carry a request of its own past the edge (request smuggling).
func TestReview4_passRequestFramingIsTheContentsAlone(t *testing.T) {
	o := startRawLogOrigin(t)
	yaml := `node: {name: e}
cache: {memory: 64MiB, max_object_size: 8MiB, fill_timeout: 5s}
origins:
  o:
    servers: [{url: ` + o.URL + `}]
routes:
  - match: {path_prefix: /te/}
    origin: o
    headers: {request: {set: {Transfer-Encoding: chunked}}}
`
	n := startNode(t, yaml, Options{})
	smuggler := "0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
	for _, raw := range []string{
		"GET /te/get HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
		"POST /te/post HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: " + itoa(len(smuggler)) + "\r\n\r\n" + smuggler,
	} {
		out, _ := converse(t, n.HTTPAddr(), raw, 3*time.Second)
		if lines := statusLines(out); len(lines) != 1 || lines[0] != "HTTP/1.1 200 OK" {
			t.Errorf("%s: client got %q, want one 200", strings.SplitN(raw, "\r\n", 2)[0], lines)
		}
	}
	for _, r := range o.requests() {
		if te := r.values("Transfer-Encoding"); len(te) > 0 {
			t.Errorf("%s: origin got Transfer-Encoding %q", r.line, te)
		}
		if strings.Contains(r.line, "/smuggled") {
			t.Errorf("origin got a request the client smuggled in a body: %s", r.line)
		}
		if strings.HasPrefix(r.line, "POST") && r.body != smuggler {
			t.Errorf("POST body at the origin %q, want the client's %q", r.body, smuggler)
		}
	}
}

func itoa(n int) string {
	b := []byte{}
	for {
		b = append([]byte{byte('0' + n%10)}, b...)
		if n /= 10; n == 0 {
			return string(b)
		}
	}
}
