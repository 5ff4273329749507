package edge

import (
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

// TestNode_noFieldSentTwice: a response head starts with the Date it will send (startHead)
// and then takes the stored or relayed fields, Date among them. fasthttp's HTTP/1.1 head
// ignores the second Date; the HTTP/2 head (a fieldList) sent it twice on a miss, on the
// first hits (before the hit template) and on disk hits, a Date that RFC 9110 section 6.6.1
// makes one timestamp. Every field the origin sends once reaches the client once, over
// HTTP/1.1 and h2c, on a miss, hits, HEAD, a 304 to the client, a pass and a revalidation.
func TestNode_noFieldSentTwice(t *testing.T) {
	o := testenv.StartBadOrigin(t)
	var ahead atomic.Int64
	now := func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }
	n := startNode(t, `listen: {http: "127.0.0.1:0", h2c: "127.0.0.1:0", admin: "127.0.0.1:0"}
`+hostileConfig(o.URL, ""), Options{Now: now})
	date := func() string { return time.Now().UTC().Format(http.TimeFormat) }
	fields := func(cc string) []testenv.Field {
		return testenv.Fields("Cache-Control", cc, "Date", date(), "ETag", `"v1"`, "Last-Modified", "Mon, 30 Nov 2026 10:00:00 GMT", "Content-Type", "text/plain", "X-Origin", "one")
	}
	for _, proto := range []string{"HTTP/1.1", "h2c"} {
		addr, client := n.HTTPAddr(), http.DefaultClient
		if proto == "h2c" {
			addr, client = n.H2CAddr(), h2cClient()
		}
		c := "/c/" + proto
		r := "/r/" + proto
		o.Script(c, testenv.Script{Header: fields("max-age=600"), Body: []byte("hello")})
		o.Script("/dyn/"+proto, testenv.Script{Header: fields("no-store"), Body: []byte("hello")})
		o.Sequence(r, testenv.Script{Header: fields("max-age=5"), Body: []byte("hello")},
			testenv.Script{Status: 304, Header: fields("max-age=600")}) // Date behind the node's clock by 10 s: still fresh
		ahead.Store(0)
		steps := []struct {
			name, method, path string
			header             []string
			advance            time.Duration
		}{
			{"miss", "GET", c, nil, 0},
			{"first hit", "GET", c, nil, 0},
			{"second hit", "GET", c, nil, 0},
			{"third hit", "GET", c, nil, 0},
			{"HEAD hit", "HEAD", c, nil, 0},
			{"304 to the client", "GET", c, []string{"If-None-Match", `"v1"`}, 0},
			{"pass", "GET", "/dyn/" + proto, nil, 0},
			{"miss to revalidate", "GET", r, nil, 0},
			{"revalidated with a 304", "GET", r, nil, 10 * time.Second},
			{"hit after the revalidation", "GET", r, nil, 0},
		}
		for _, s := range steps {
			ahead.Add(int64(s.advance))
			req, _ := http.NewRequest(s.method, "http://"+addr+s.path, nil)
			req.Host = "www.test"
			for i := 0; i+1 < len(s.header); i += 2 {
				req.Header.Set(s.header[i], s.header[i+1])
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatalf("%s %s: %v", proto, s.name, err)
			}
			resp.Body.Close()
			n.settleFills()
			for k, v := range resp.Header {
				if len(v) > 1 {
					t.Errorf("%s %s (%d, %s): %s sent %d times: %q", proto, s.name, resp.StatusCode, resp.Header.Get("Cache-Status"), k, len(v), v)
				}
			}
			if resp.Header.Get("Date") == "" {
				t.Errorf("%s %s: no Date", proto, s.name)
			}
		}
	}
	for path, want := range map[string]int{"/c/h2c": 1, "/r/h2c": 2, "/r/HTTP/1.1": 2} {
		if got := o.Count(path); got != want {
			t.Errorf("origin asked %d times for %s, want %d", got, path, want)
		}
	}
}
