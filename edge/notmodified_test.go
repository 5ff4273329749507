package edge

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

// RFC 9111 sections 4.3.3-4.3.4: a revalidation answered by a 304 whose validators select no
// stored response is repeated once without its conditional fields, and the new object is
// served and stored (it used to end in 502).
func TestNode_notModifiedMatchingNothingIsRefetched(t *testing.T) {
	clock := newTestClock()
	o := testenv.StartBadOrigin(t)
	n := startNode(t, oneRoute(true, o.URL), Options{Now: clock.Now})
	for _, tc := range []struct {
		name     string
		stored   []testenv.Field // validators of the stored response
		answered []testenv.Field // validators of the 304
	}{
		{"new strong ETag", testenv.Fields("ETag", `"v1"`), testenv.Fields("ETag", `"v2"`)},
		{"new weak ETag", testenv.Fields("ETag", `W/"v1"`), testenv.Fields("ETag", `W/"v2"`)},
		{"ETag where the stored one had none", testenv.Fields("Last-Modified", "Thu, 01 Jan 2026 00:00:00 GMT"), testenv.Fields("ETag", `"v2"`)},
		{"new Last-Modified", testenv.Fields("Last-Modified", "Thu, 01 Jan 2026 00:00:00 GMT"), testenv.Fields("Last-Modified", "Fri, 02 Jan 2026 00:00:00 GMT")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := "/" + strings.ReplaceAll(tc.name, " ", "-") + ".css"
			o.Handle(path, func(r testenv.RawRequest, i int) testenv.Script {
				date := testenv.Field{Name: "Date", Value: clock.Now().Format(http.TimeFormat)}
				cc := testenv.Field{Name: "Cache-Control", Value: "max-age=10"}
				switch {
				case i == 0:
					return testenv.Script{Header: append([]testenv.Field{date, cc}, tc.stored...), Body: []byte("old body")}
				case r.Get("If-None-Match") != "" || r.Get("If-Modified-Since") != "":
					return testenv.Script{Status: 304, Header: append([]testenv.Field{date, cc}, tc.answered...)}
				}
				return testenv.Script{Header: append([]testenv.Field{date, cc}, tc.answered...), Body: []byte("new body")}
			})
			if r := fillOnce(t, n, path); r.body != "old body" {
				t.Fatalf("fill: %d %q", r.status, r.body)
			}
			clock.Add(time.Minute)
			r := fillOnce(t, n, path)
			if r.status != 200 || r.body != "new body" {
				t.Fatalf("revalidation: %d %q, Cache-Status %q; want 200 with the new body", r.status, r.body, r.cacheStatus())
			}
			reqs := o.Requests()
			var conditional, plain int
			for _, q := range reqs {
				if q.Path != path {
					continue
				}
				if q.Get("If-None-Match") != "" || q.Get("If-Modified-Since") != "" {
					conditional++
				} else {
					plain++
				}
			}
			if conditional != 1 || plain != 2 {
				t.Errorf("origin saw %d conditional and %d plain requests, want 1 and 2", conditional, plain)
			}
			if r := send(t, n, "GET", path); !r.hit() || r.body != "new body" {
				t.Errorf("after the refetch: hit=%v body %q; want the new object from the store", r.hit(), r.body)
			}
		})
	}
}
