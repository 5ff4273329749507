package edge

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/shoal-cdn/shoal/conf"
	"github.com/valyala/fasthttp"
)

// The origin request's framing is the content's alone (RFC 9112 section 6). A route that
// sets Transfer-Encoding on requests would frame a client's Content-Length body as chunks at
// the origin; such a body that parses as chunks would end early and carry a request of its
// own past the edge (request smuggling). conf refuses the rule, naming it; and should a
// framing field reach the outgoing list anyway, neither request writer (the pool's
// AppendHead, the peer hop's writeRequest) sends it.
func TestReview4_passRequestFramingIsTheContentsAlone(t *testing.T) {
	yaml := `listen: {http: "127.0.0.1:0"}
origins:
  o:
    servers: [{url: "http://127.0.0.1:1"}]
routes:
  - match: {path_prefix: /te/}
    origin: o
    headers: {request: {set: {Transfer-Encoding: chunked}}}
`
	_, err := conf.Parse([]byte(yaml), "te.yaml", "")
	var errs conf.Errors
	if !errors.As(err, &errs) || errs[0].Key != "routes[0].headers.request.set.Transfer-Encoding" {
		t.Errorf("a route setting Transfer-Encoding: got %v, want it refused by key", err)
	}

	for _, name := range []string{"Transfer-Encoding", "transfer-encoding", "Content-Length"} {
		o := &fieldList{contentLength: -2}
		o.method, o.uri, o.host = []byte("POST"), []byte("/te/post"), []byte("x")
		requestFieldsFold{listFieldsFold{o}}.AddBytesV(name, []byte("chunked"))
		o.AddBytesV("X-Kept", []byte("1"))
		head := o.AppendHead(nil, "")
		if bytes.Contains(bytes.ToLower(head), []byte(strings.ToLower(name)+":")) || !bytes.Contains(head, []byte("X-Kept: 1\r\n")) {
			t.Errorf("%s in the outgoing list: the pool's head is %q", name, head)
		}
		var req fasthttp.Request
		writeRequest(o, &req, nil, 0, []byte("0\r\n\r\n"))
		wire := req.String()
		if strings.Contains(strings.ToLower(wire), "transfer-encoding") || strings.Count(strings.ToLower(wire), "content-length") != 1 {
			t.Errorf("%s in the outgoing list: the peer hop's request is %q", name, wire)
		}
	}
}
