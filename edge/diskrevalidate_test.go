package edge

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

// nginxStatuses counts nginx's logged answers by "path status" from an access log written in
// nginx's combined format, once the log has stopped growing (see testenv.Nginx.Requests).
func nginxStatuses(t *testing.T, path string) map[string]int {
	t.Helper()
	data, _ := os.ReadFile(path)
	for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); {
		time.Sleep(30 * time.Millisecond)
		again, _ := os.ReadFile(path)
		if len(again) == len(data) {
			break
		}
		data = again
	}
	counts := map[string]int{}
	for _, m := range regexp.MustCompile(`"GET (\S+) [^"]*" (\d{3}) `).FindAllStringSubmatch(string(data), -1) {
		counts[m[1]+" "+m[2]]++
	}
	return counts
}

// Issue 16: a stale copy found on disk after a restart goes through RFC 9111's validation
// path like a memory object, not a refetch: a conditional request with its validators, and
// on nginx's 304 the freshened head is stored (in memory for a small copy, on disk for one
// above the promote size) and the disk body is served; stale-while-revalidate serves the
// disk copy at once and validates in the background; stale-if-error serves it when the
// origin is down.
func TestDiskTier_staleDiskCopiesAreRevalidated(t *testing.T) {
	logDir := t.TempDir()
	statusLog := filepath.Join(logDir, "status.log")
	ng := testenv.StartNginx(t, testenv.NginxOptions{Extra: fmt.Sprintf(`access_log %s combined;
    location /must/ { add_header Cache-Control "max-age=5"; }
    location /swr/ { add_header Cache-Control "max-age=5, stale-while-revalidate=600"; }
    location /sie/ { add_header Cache-Control "max-age=5, stale-if-error=600"; }`, statusLog)})
	bodies := map[string]string{}
	for _, dir := range []string{"must", "swr", "sie"} {
		for name, size := range map[string]int{"small": 4 << 10, "large": 300 << 10} {
			p := "/" + dir + "/" + name + ".txt"
			bodies[p] = string(largeBody(size))
			ng.WriteFile(p[1:], bodies[p])
		}
	}
	yaml := strings.Replace(oneRoute(true, ng.URL), "fill_timeout: 5s}",
		fmt.Sprintf("fill_timeout: 5s, disk: {path: %q, size: 16MiB}}", t.TempDir()), 1)
	// The first node runs 10 s behind: what it stores is already stale for the second, with
	// no sleep (nginx's Date is later than the response time, so the apparent age is 0).
	first := startNode(t, yaml, Options{Now: func() time.Time { return time.Now().Add(-10 * time.Second) }})
	waitDiskReady(t, first)
	for p, want := range bodies {
		if status, _, body := get(t, "http://"+first.HTTPAddr()+p, "Host", "www.example.test"); status != 200 || body != want {
			t.Fatalf("fill %s: %d, %d bytes", p, status, len(body))
		}
	}
	first.settleDisk()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	first.Shutdown(ctx)
	cancel()

	n := startNode(t, yaml, Options{})
	waitDiskReady(t, n)
	base := "http://" + n.HTTPAddr()
	check := func(step, p, wantStatus string) {
		t.Helper()
		status, h, body := get(t, base+p, "Host", "www.example.test") // the key names the host, not the port
		if status != 200 || body != bodies[p] || !strings.Contains(h.Get("Cache-Status"), wantStatus) {
			t.Errorf("%s %s: %d, %d bytes (want %d), Cache-Status %q (want %q)", step, p, status, len(body), len(bodies[p]), h.Get("Cache-Status"), wantStatus)
		}
	}
	wantLog := func(step string, want map[string]int) {
		t.Helper()
		got := nginxStatuses(t, statusLog)
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s: nginx answered %q %d times, want %d (log: %v)", step, k, got[k], v, got)
			}
		}
	}

	// Validation first: one 304 each, then fresh hits (memory for the small copy, disk for the large).
	check("stale", "/must/small.txt", "fwd=stale; fwd-status=304")
	check("stale", "/must/large.txt", "fwd=stale; fwd-status=304")
	n.settleDisk()
	check("refreshed", "/must/small.txt", "hit")
	check("refreshed", "/must/large.txt", "hit; ttl=")
	check("refreshed", "/must/large.txt", "/disk")
	wantLog("must-revalidate", map[string]int{"/must/small.txt 200": 1, "/must/large.txt 200": 1,
		"/must/small.txt 304": 1, "/must/large.txt 304": 1})

	// stale-while-revalidate: served at once, validated in the background.
	check("stale-while-revalidate", "/swr/small.txt", "hit")
	check("stale-while-revalidate", "/swr/large.txt", "hit")
	deadline := time.Now().Add(3 * time.Second)
	for g := nginxStatuses(t, statusLog); g["/swr/small.txt 304"]+g["/swr/large.txt 304"] < 2 && time.Now().Before(deadline); g = nginxStatuses(t, statusLog) {
		time.Sleep(5 * time.Millisecond) // a bounded poll of nginx's log, not a busy loop
	}
	// Both revalidations asked nginx from the node's background (n.bg), so settleDisk waits
	// for them to end; memory applies a Set before it returns, so nothing else is pending.
	n.settleDisk()
	check("revalidated in the background", "/swr/small.txt", "hit; ttl=")
	check("revalidated in the background", "/swr/large.txt", "/disk")
	wantLog("stale-while-revalidate", map[string]int{"/swr/small.txt 304": 1, "/swr/large.txt 304": 1,
		"/swr/small.txt 200": 1, "/swr/large.txt 200": 1})

	// stale-if-error: the origin is gone, the stale disk copies answer.
	ng.Stop()
	check("stale-if-error", "/sie/small.txt", "hit")
	check("stale-if-error", "/sie/large.txt", "hit")
}
