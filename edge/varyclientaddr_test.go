package edge

import (
	"strings"
	"testing"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

// RFC 9111 section 4.1: a stored response is reused only when the fields its Vary names match
// those of the request it was selected for. The node writes X-Forwarded-For and Forwarded
// itself, from the client's address, after the key is made from the client's fields: an
// origin that varies on them (a per-country page picked by the address) had its answer for
// one client stored under the key of everyone who sent neither field, and a client at
// another address got the first client's page as a hit; so did a field the route sets from
// ${client_ip}. Such a response names fields only the node knows per request: it is not
// shared, as Vary: * is not.
func TestNode_varyOnAForwardingFieldIsNotShared(t *testing.T) {
	o := testenv.StartBadOrigin(t)
	answerAddress := func(vary string) testenv.Handler {
		return func(r testenv.RawRequest, _ int) testenv.Script {
			return testenv.Script{Body: []byte("for " + r.Get("X-Forwarded-For")),
				Header: testenv.Fields("Cache-Control", "max-age=600", "Vary", vary)}
		}
	}
	o.Handle("/xff.html", answerAddress("X-Forwarded-For"))
	o.Handle("/forwarded.html", answerAddress("Accept-Language, forwarded"))
	o.Handle("/route-field.html", func(r testenv.RawRequest, _ int) testenv.Script {
		return testenv.Script{Body: []byte("for " + r.Get("X-Client")),
			Header: testenv.Fields("Cache-Control", "max-age=600", "Vary", "X-Client")}
	})
	o.Handle("/route-constant.html", func(r testenv.RawRequest, _ int) testenv.Script {
		return testenv.Script{Body: []byte("for " + r.Get("X-Client")),
			Header: testenv.Fields("Cache-Control", "max-age=600", "Vary", "X-Const")}
	})
	// The route's request fields: one with the client's address, one the same for everyone.
	yaml := strings.Replace(oneRoute(true, o.URL), "cache: true}",
		`cache: true, headers: {request: {set: {X-Client: "${client_ip}", X-Const: fixed}}}}`, 1)
	n := startNode(t, yaml, Options{})
	// A constant field is the same for every request of the key: still shared.
	strictGetFrom(t, "127.0.0.1", n.HTTPAddr(), "/route-constant.html")
	n.bg.Wait()
	if r := strictGetFrom(t, "127.0.0.2", n.HTTPAddr(), "/route-constant.html"); !r.hit() {
		t.Errorf("Vary on a constant route field: Cache-Status %q, want a hit", r.cacheStatus())
	}
	for _, path := range []string{"/xff.html", "/forwarded.html", "/route-field.html"} {
		for _, client := range []string{"127.0.0.1", "127.0.0.2", "127.0.0.1"} {
			r := strictGetFrom(t, client, n.HTTPAddr(), path)
			if want := "for " + client; r.err != nil || r.status != 200 || r.body != want {
				t.Errorf("%s from %s: %d %q (%v), want the origin's answer for that address, %q", path, client, r.status, r.body, r.err, want)
			}
		}
		if got := o.Count(path); got != 3 {
			t.Errorf("%s: origin asked %d times, want 3 (nothing shared across addresses)", path, got)
		}
	}
}
