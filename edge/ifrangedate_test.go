package edge

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

// RFC 9110 sections 13.1.5 and 8.8.2.2: an If-Range date matches only a strong Last-Modified,
// one at least a second before the stored Date; in the same second the representation may
// have changed twice with one Last-Modified. Taken as a match, a client resuming a download
// of a file rewritten within its second of Last-Modified got the rest of the new file spliced
// onto its part of the old one (nginx compares the dates alone; Apache checks the second).
// The memory hit, the disk hit of a large copy, on HTTP/1.1 and HTTP/2.
func TestNode_ifRangeDateMatchesOnlyAStrongLastModified(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	date := now.Format(http.TimeFormat)
	sizes := map[string]int{"memory": 1000, "disk": 3 << 20}
	for _, tier := range []string{"memory", "disk"} {
		t.Run(tier, func(t *testing.T) {
			o := testenv.StartBadOrigin(t)
			n := startTierNode(t, o.URL, "disk", "size: 64MiB, admit_frequency: -1")
			body := strings.Repeat("0123456789", sizes[tier]/10)
			for _, tc := range []struct {
				name         string
				lastModified time.Time
				want         int
			}{
				{"same-second", now, http.StatusOK},           // weak: the whole body
				{"second-before", now.Add(-time.Second), 206}, // strong
			} {
				path := "/" + tc.name + ".bin"
				lm := tc.lastModified.Format(http.TimeFormat)
				o.Script(path, testenv.Script{Body: []byte(body),
					Header: testenv.Fields("Date", date, "Last-Modified", lm, "Cache-Control", "max-age=600")})
				for _, proto := range []string{"HTTP/1.1", "HTTP/2"} {
					client, addr := protoClient(n, proto)
					get := func(header ...string) (*http.Response, string) {
						req, _ := http.NewRequest("GET", "http://"+addr+path, nil)
						req.Host = "www.example.com" // one object for both listeners
						for i := 0; i+1 < len(header); i += 2 {
							req.Header.Set(header[i], header[i+1])
						}
						resp, b := fetchRequest(t, client, req)
						return resp, string(b)
					}
					get()
					n.bg.Wait()
					resp, got := get("Range", "bytes=0-3", "If-Range", lm)
					if resp.StatusCode != tc.want || !strings.Contains(resp.Header.Get("Cache-Status"), "; hit") {
						t.Errorf("%s %s: If-Range %q on Last-Modified %q, Date %q: %d (Cache-Status %q), want a %d hit",
							proto, tc.name, lm, lm, date, resp.StatusCode, resp.Header.Get("Cache-Status"), tc.want)
					}
					if want := map[int]string{200: body, 206: "0123"}[tc.want]; got != want {
						t.Errorf("%s %s: body of %d bytes, want %d", proto, tc.name, len(got), len(want))
					}
				}
				if got := o.Count(path); got != 1 {
					t.Errorf("%s: origin asked %d times, want 1 (the rest are hits)", tc.name, got)
				}
			}
		})
	}
}
