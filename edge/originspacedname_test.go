package edge

import (
	"net/http"
	"strings"
	"testing"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

// TestNode_originFieldNameWithASpaceIs502: a field name is a token (RFC 9110 section 5.1),
// and fasthttp refuses every byte a token may not hold but a space: an origin head with
// "X-Bad Name: 1" reached clients as it came, on HTTP/2 as a field name no client accepts
// (RFC 9113 section 8.2.1: Go's client fails the response), and was stored, so one broken
// field made an object every HTTP/2 client failed on. It is now answered 502 like the other
// invalid names (nginx: "upstream sent invalid header"), on a cache route and a pass route,
// over HTTP/1.1 and HTTP/2, in a final head and in a 103's, and never stored (the origin is
// asked again). Its neighbours stay served: whitespace before the colon (a proxy removes it,
// RFC 9112 section 5.1) and a space inside a value. Failed before: 200 with the field.
func TestNode_originFieldNameWithASpaceIs502(t *testing.T) {
	o := testenv.StartBadOrigin(t)
	routes := strings.Replace(oneRoute(true, o.URL), "routes:\n",
		"routes:\n  - {match: {path_prefix: /pass/}, origin: o, cache: false}\n", 1)
	n, pool := h2Node(t, routes)
	h2 := h2Client(pool, n.HTTPSAddr())
	fields := testenv.Fields("Cache-Control", "max-age=60")
	cases := []struct {
		name   string
		script testenv.Script
		status int
	}{
		{"space in a name", testenv.Script{Header: append(fields, testenv.Fields("X-Bad Name", "1")...), Body: []byte("body")}, 502},
		{"tab in a name", testenv.Script{Header: append(fields, testenv.Fields("X-Bad\tName", "1")...), Body: []byte("body")}, 502},
		{"space in a 103's name", testenv.Script{Interim: []testenv.Interim{{Status: 103, Header: testenv.Fields("Link Bad", "</a.css>; rel=preload")}},
			Header: fields, Body: []byte("body")}, 502},
		{"space before the colon", testenv.Script{Header: append(fields, testenv.Fields("X-Before ", "1")...), Body: []byte("body")}, 200},
		{"tab before the colon", testenv.Script{Header: append(fields, testenv.Fields("X-Before\t \t", "1")...), Body: []byte("body")}, 200},
		{"space in a value", testenv.Script{Header: append(fields, testenv.Fields("X-Value", "a b")...), Body: []byte("body")}, 200},
	}
	for _, tc := range cases {
		for _, route := range []string{"/", "/pass/"} {
			path := route + strings.ReplaceAll(tc.name, " ", "-") + ".css"
			o.Script(path, tc.script)
			t.Run(tc.name+" "+route, func(t *testing.T) {
				for i, client := range []string{"HTTP/1.1", "HTTP/2", "HTTP/1.1 again"} {
					var status int
					var header http.Header
					if client == "HTTP/2" {
						resp, body := fetch(t, h2, "GET", "https://www.example.test"+path)
						status, header = resp.StatusCode, resp.Header
						if status == 200 && string(body) != "body" {
							t.Fatalf("%s: body %q", client, body)
						}
					} else {
						status, header, _ = get(t, "http://"+n.HTTPAddr()+path, "Host", "www.example.test")
					}
					if status != tc.status {
						t.Fatalf("%s: %d (X-Bad Name %q), want %d", client, status, header.Get("X-Bad Name"), tc.status)
					}
					n.settleFills()
					if tc.status == 502 && o.Count(path) != i+1 {
						t.Fatalf("%s: the origin was asked %d times in %d requests: the answer was stored", client, o.Count(path), i+1)
					}
				}
			})
		}
	}
}
