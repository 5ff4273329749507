package edge

import (
	"io"
	"net/http"
	"testing"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

// Via is a field the node writes per hop: the origin gets the client's members, then the
// node's own, "1.1 <name>", "2 <name>" or "1.0 <name>" by the protocol the client used, and
// another node's name when a hot copy or an object adopted on a ring change fills it. A
// response that varies on it was chosen for a value the client's fields do not give, as
// X-Forwarded-For is: it is not shared (RFC 9111 section 4.1 compares the request the
// response was selected for). Failed before: the answer chosen for "1.1 test-edge" was
// stored under "no Via" and served as a hit to an HTTP/2 client, whose request the origin
// would have seen as "2 test-edge".
func TestNode_varyOnViaIsNotShared(t *testing.T) {
	o := testenv.StartBadOrigin(t)
	o.Handle("/v.css", func(r testenv.RawRequest, _ int) testenv.Script {
		return testenv.Script{Body: []byte("for " + r.Get("Via")),
			Header: testenv.Fields("Cache-Control", "max-age=600", "Vary", "Via")}
	})
	n := startNode(t, "listen: {http: \"127.0.0.1:0\", h2c: \"127.0.0.1:0\", admin: \"127.0.0.1:0\"}\n"+oneRoute(true, o.URL), Options{})
	for _, c := range []struct {
		client *http.Client
		url    string
		want   string
	}{
		{http.DefaultClient, "http://" + n.HTTPAddr() + "/v.css", "for 1.1 test-edge"},
		{h2cClient(), "http://" + n.H2CAddr() + "/v.css", "for 2 test-edge"},
		{http.DefaultClient, "http://" + n.HTTPAddr() + "/v.css", "for 1.1 test-edge"},
	} {
		req, err := http.NewRequest("GET", c.url, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Host = "www.example.test" // one object, whichever listener
		resp, err := c.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		n.settleFills()
		if string(body) != c.want {
			t.Errorf("%s: %q (%s), want the origin's answer for its own Via, %q", resp.Proto, body, resp.Header.Get("Cache-Status"), c.want)
		}
	}
	if got := o.Count("/v.css"); got != 3 {
		t.Errorf("origin asked %d times, want 3: a response varying on Via is not shared", got)
	}
}
