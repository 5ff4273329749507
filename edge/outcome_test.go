package edge

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

type accessEntry struct {
	URI         string `json:"uri"`
	Status      int    `json:"status"`
	Bytes       int    `json:"bytes"`
	Result      string `json:"result"`
	CacheStatus string `json:"cache_status"`
	// The upstream fields (accesslog.go's upstream) and the request id.
	RequestID       string  `json:"request_id"`
	Upstream        string  `json:"upstream"`
	UpstreamAddr    string  `json:"upstream_addr"`
	UpstreamStatus  int     `json:"upstream_status"`
	UpstreamSeconds float64 `json:"upstream_seconds"`
}

// loggedEntry waits for the access record of uri: a streamed body's record is written once
// the body has gone out.
func loggedEntry(t *testing.T, buf *syncBuffer, uri string) accessEntry {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		for _, line := range strings.Split(buf.String(), "\n") {
			var e accessEntry
			if json.Unmarshal([]byte(line), &e) == nil && e.URI == uri {
				return e
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no access record for %s in %q", uri, buf.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A streamed response whose body is then cut already sent its head, Cache-Status "stored"
// included on a miss: the access log and the request metrics, written when the body ends,
// say "aborted" and not "stored", and count only the bytes sent. A whole one keeps "miss"
// and "stored".
func TestNode_cutStreamedBodyIsRecordedAborted(t *testing.T) {
	o := testenv.StartBadOrigin(t)
	for _, cache := range []bool{true, false} {
		var buf syncBuffer
		buf.Write(nil)
		n := startNode(t, "log: {access: json}\n"+oneRoute(cache, o.URL), Options{AccessLog: &buf})
		policy := map[bool]string{true: "cache", false: "pass"}[cache]
		for _, tc := range truncations {
			t.Run(fmt.Sprintf("cache=%v/%s", cache, tc.name), func(t *testing.T) {
				path := fmt.Sprintf("/cut-%v-%s.css", cache, tc.name)
				s := truncated(tc.script)
				s.Body = []byte(strings.Repeat("t", 64<<10)) // past what fasthttp buffers: the head leaves first
				s.CutAt = 40 << 10
				s.Chunk = 8 << 10
				o.Script(path, s)
				before := counterValue(n.metrics.requests.WithLabelValues(policy, resultAborted))
				r := strictGet(t, n.HTTPAddr(), path)
				if r.err == nil {
					t.Fatalf("read %d bytes as complete", len(r.body))
				}
				e := loggedEntry(t, &buf, path)
				if e.Result != resultAborted || strings.Contains(e.CacheStatus, "stored") || tc.script.Cut != testenv.ChunkBoundary && e.Bytes >= len(s.Body) {
					t.Errorf("logged result %q, Cache-Status %q, %d bytes; want aborted, not stored, fewer than %d", e.Result, e.CacheStatus, e.Bytes, len(s.Body))
				}
				if cache && r.status == 200 && !strings.Contains(r.header.Get("Cache-Status"), "stored") {
					t.Logf("the head said %q", r.header.Get("Cache-Status")) // sent before the cut: not asserted
				}
				if got := counterValue(n.metrics.requests.WithLabelValues(policy, resultAborted)) - before; got != 1 {
					t.Errorf("requests{result=aborted} grew by %v, want 1", got)
				}
			})
		}
		t.Run(fmt.Sprintf("cache=%v/whole", cache), func(t *testing.T) {
			path := fmt.Sprintf("/whole-%v.css", cache)
			s := whole
			s.Body = []byte(strings.Repeat("w", 64<<10))
			o.Script(path, s)
			if r := strictGet(t, n.HTTPAddr(), path); r.err != nil || len(r.body) != len(s.Body) {
				t.Fatalf("whole: %d bytes, err %v", len(r.body), r.err)
			}
			e := loggedEntry(t, &buf, path)
			want := map[bool]string{true: "miss", false: "pass"}[cache]
			if e.Result != want || e.Bytes != len(s.Body) || cache != strings.Contains(e.CacheStatus, "stored") {
				t.Errorf("logged result %q, Cache-Status %q, %d bytes; want %s with %d bytes", e.Result, e.CacheStatus, e.Bytes, want, len(s.Body))
			}
		})
	}
}
