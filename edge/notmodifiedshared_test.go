package edge

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

// TestNode_notModifiedFieldsStayWithTheirClient: the fields of a 304 become the stored
// response's (RFC 9111 section 3.2), so the rules a fill applies before sharing a response
// apply to them too. A 304 that sets a cookie answers the client whose request was
// revalidated and is not stored: the next client's answer carries no Set-Cookie (the cookie
// is someone's session; the origin sets it on the first validation only). The fields a 304 names in private="..." are not stored (RFC 9111
// section 5.2.2.7): the next client gets a hit without them; a Set-Cookie the 304 marks
// private="Set-Cookie" or no-cache="Set-Cookie" leaves a shareable hit without it. In memory
// and for an object whose body is on disk. Failed before: the freshened head was stored
// whole, and every later hit handed out the 304's Set-Cookie: s=victim and X-Secret.
func TestNode_notModifiedFieldsStayWithTheirClient(t *testing.T) {
	for _, tier := range []struct {
		name string
		size int    // body bytes
		disk string // cache block extra
	}{
		{"memory", 3 << 10, ""},
		{"disk", 8 << 10, "disk: {path: %q, size: 16MiB, ram_cache_cutoff: 4KiB}"},
	} {
		t.Run(tier.name, func(t *testing.T) {
			clock := newTestClock()
			o := testenv.StartBadOrigin(t)
			extra := tier.disk
			if extra != "" {
				extra = fmt.Sprintf(extra, t.TempDir())
			}
			n := rfcNode(t, clock, o.URL, extra)
			body := strings.Repeat("b", tier.size)
			for _, tc := range []struct {
				name     string
				answered []testenv.Field // the 304's fields besides Date and ETag
				hidden   string          // a field no later client may get
				hit      bool            // the next request is a hit
			}{
				{"Set-Cookie", testenv.Fields("Cache-Control", "max-age=60", "Set-Cookie", "s=victim"), "Set-Cookie", false},
				{"private field", testenv.Fields("Cache-Control", `max-age=60, private="X-Secret"`, "X-Secret", "victim"), "X-Secret", true},
				{"private Set-Cookie", testenv.Fields("Cache-Control", `max-age=60, private="Set-Cookie"`, "Set-Cookie", "s=victim"), "Set-Cookie", true},
				{"no-cache Set-Cookie", testenv.Fields("Cache-Control", `max-age=60, no-cache="Set-Cookie"`, "Set-Cookie", "s=victim"), "Set-Cookie", true},
			} {
				t.Run(tc.name, func(t *testing.T) {
					path := "/" + strings.ReplaceAll(tc.name, " ", "-") + ".css"
					o.Handle(path, func(r testenv.RawRequest, i int) testenv.Script {
						fields := testenv.Fields("Date", clock.Now().Format(http.TimeFormat), "ETag", `"v1"`)
						switch {
						case r.Get("If-None-Match") != "" && i == 1:
							return testenv.Script{Status: 304, Header: append(fields, tc.answered...)}
						case r.Get("If-None-Match") != "":
							// Later validations (of a 304 that was not stored) set nothing.
							return testenv.Script{Status: 304, Header: append(fields, testenv.Fields("Cache-Control", "max-age=60")...)}
						}
						return testenv.Script{Header: append(fields, testenv.Fields("Cache-Control", "max-age=10")...), Body: []byte(body)}
					})
					if r := fillOnce(t, n, path); r.status != 200 || r.body != body {
						t.Fatalf("fill: %d, %d bytes", r.status, len(r.body))
					}
					settle := n.settleFills
					if tier.disk != "" {
						settle = n.settleDisk
					}
					settle()
					clock.Add(11 * time.Second)
					r := fillOnce(t, n, path)
					if r.status != 200 || r.body != body || r.header.Get(tc.hidden) != "victim" && r.header.Get(tc.hidden) != "s=victim" {
						t.Fatalf("revalidation: %d, %d bytes, %s %q, Cache-Status %q; want 200 with the 304's field for its own client",
							r.status, len(r.body), tc.hidden, r.header.Get(tc.hidden), r.cacheStatus())
					}
					settle()
					next := send(t, n, "GET", path)
					if got := next.header.Get(tc.hidden); got != "" || next.status != 200 || next.body != body {
						t.Fatalf("the next client: %d, %d bytes, %s %q (Cache-Status %q): the 304's field was shared",
							next.status, len(next.body), tc.hidden, got, next.cacheStatus())
					}
					if next.hit() != tc.hit {
						t.Fatalf("the next client: Cache-Status %q, want a hit: %v", next.cacheStatus(), tc.hit)
					}
				})
			}
		})
	}
}
