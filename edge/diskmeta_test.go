package edge

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/valyala/fasthttp"
)

// cacheStatusTTL is the ttl parameter of a Cache-Status member, or -1<<31 when absent.
func cacheStatusTTL(cs string) int {
	i := strings.Index(cs, "ttl=")
	if i < 0 {
		return -1 << 31
	}
	v := cs[i+4:]
	if j := strings.IndexByte(v, ';'); j >= 0 {
		v = v[:j]
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		return -1 << 31
	}
	return n
}

// A disk hit served from its segment file keeps what it decoded from the record's head
// (diskmeta.go), so every later hit on that record must answer exactly as a first one would:
// the head of this record, not of the one the key had before a purge and a new fill, with
// conditionals, HEAD and a Range answered from it, and a soft purge made after the decode
// still seen.
func TestDiskTier_keptHeadIsTheRecordsOwn(t *testing.T) {
	want := largeBody(3 << 20)
	var version atomic.Int64
	version.Store(1)
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		v := version.Load()
		w.Header().Set("Cache-Control", "max-age=600")
		w.Header().Set("ETag", fmt.Sprintf(`"v%d"`, v))
		w.Header().Set("X-Version", fmt.Sprint(v))
		if r.Header.Get("If-None-Match") == fmt.Sprintf(`"v%d"`, v) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Content-Length", fmt.Sprint(len(want)))
		w.Write(want)
	})
	n, token := largeDiskNode(t, origin.URL, "")
	url := "http://" + n.HTTPAddr() + "/big"
	getRange(t, url, "") // the fill
	n.settleDisk()
	hit := func(step, wantVersion string) {
		t.Helper()
		for i := range 3 { // the first decodes, the next are served from what it kept
			resp, body := getRange(t, url, "")
			cs := resp.Header.Get("Cache-Status")
			if !bytes.Equal(body, want) || !strings.Contains(cs, "hit") || !strings.Contains(cs, "/disk") ||
				resp.Header.Get("X-Version") != wantVersion || resp.Header.Get("ETag") != `"v`+wantVersion+`"` {
				t.Fatalf("%s, hit %d: %d bytes, X-Version %q, ETag %q, Cache-Status %q; want a disk hit on version %s",
					step, i, len(body), resp.Header.Get("X-Version"), resp.Header.Get("ETag"), cs, wantVersion)
			}
			if ttl := cacheStatusTTL(cs); ttl < 590 || ttl > 600 {
				t.Errorf("%s, hit %d: Cache-Status %q, want ttl of about 600", step, i, cs)
			}
		}
	}
	hit("first fill", "1")

	// Conditionals, HEAD and a range on the kept decoding.
	status, h, _ := get(t, url, "If-None-Match", `"v1"`)
	if status != http.StatusNotModified || h.Get("ETag") != `"v1"` {
		t.Errorf("If-None-Match of the stored ETag: %d, ETag %q; want 304 with it", status, h.Get("ETag"))
	}
	if status, _, body := get(t, url, "If-None-Match", `"v0"`); status != http.StatusOK || len(body) != len(want) {
		t.Errorf("If-None-Match of another ETag: %d, %d bytes; want the whole 200", status, len(body))
	}
	req, _ := http.NewRequest("HEAD", url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.ContentLength != int64(len(want)) || resp.Header.Get("X-Version") != "1" {
		t.Errorf("HEAD: %d, Content-Length %d, X-Version %q; want 200, %d, 1", resp.StatusCode, resp.ContentLength, resp.Header.Get("X-Version"), len(want))
	}
	resp, body := getRange(t, url, "bytes=100-199")
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, want[100:200]) {
		t.Errorf("Range: %d, %d bytes; want 206 and bytes 100-199", resp.StatusCode, len(body))
	}

	// A purge and a new fill: a new record, whose own head is served from its first hit.
	version.Store(2)
	if status, _ := postPurge(t, n.AdminAddr(), token, fmt.Sprintf(`{"url": "http://%s/big"}`, n.HTTPAddr())); status != http.StatusOK {
		t.Fatalf("purge: %d", status)
	}
	if resp, _ := getRange(t, url, ""); resp.Header.Get("X-Version") != "2" {
		t.Fatalf("refill after the purge: X-Version %q, want 2", resp.Header.Get("X-Version"))
	}
	n.settleDisk()
	hit("after a purge and a new fill", "2")

	// A soft purge after the decode: the next hit is stale, revalidated (304), then fresh.
	if status, _ := postPurge(t, n.AdminAddr(), token, fmt.Sprintf(`{"url": "http://%s/big", "soft": true}`, n.HTTPAddr())); status != http.StatusOK {
		t.Fatalf("soft purge: %d", status)
	}
	resp, _ = getRange(t, url, "")
	if cs := resp.Header.Get("Cache-Status"); cacheStatusTTL(cs) >= 0 {
		t.Errorf("after a soft purge: Cache-Status %q, want the copy served stale (ttl below 0)", cs)
	}
}

// The decoding a disk hit keeps was decided under the settings of its time: a reload whose
// policy reads the response otherwise (here the targeted field, RFC 9213) decides again.
func TestDiskTier_keptHeadIsDecidedAgainAfterAReload(t *testing.T) {
	want := largeBody(3 << 20)
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=600")
		w.Header().Set("X-Edge-Control", "max-age=300")
		w.Header().Set("Content-Length", fmt.Sprint(len(want)))
		w.Write(want)
	})
	dir := t.TempDir()
	yaml := func(targeted string) string {
		return strings.Replace(oneRoute(true, origin.URL), "max_object_size: 8MiB, fill_timeout: 5s}",
			fmt.Sprintf("max_object_size: 1MiB, fill_timeout: 5s, targeted_field: %s, disk: {path: %q, size: 64MiB, max_object_size: 32MiB}}", targeted, dir), 1)
	}
	n := startNode(t, yaml("Shoal-Cache-Control"), Options{Logger: testLogger(t)})
	waitDiskReady(t, n)
	url := "http://" + n.HTTPAddr() + "/big"
	getRange(t, url, "")
	n.settleDisk()
	for i := range 2 {
		resp, _ := getRange(t, url, "")
		if cs := resp.Header.Get("Cache-Status"); !strings.Contains(cs, "/disk") || cacheStatusTTL(cs) < 590 {
			t.Fatalf("hit %d before the reload: Cache-Status %q, want a disk hit with ttl of about 600", i, cs)
		}
	}
	if err := reloadConfig(t, n, yaml("X-Edge-Control")); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		resp, _ := getRange(t, url, "")
		if cs := resp.Header.Get("Cache-Status"); !strings.Contains(cs, "/disk") || cacheStatusTTL(cs) > 300 {
			t.Errorf("hit %d after the reload: Cache-Status %q, want ttl of at most 300 (X-Edge-Control)", i, cs)
		}
		if resp.Header.Get("X-Edge-Control") != "" {
			t.Errorf("hit %d after the reload: X-Edge-Control %q sent downstream; the node consumes it now", i, resp.Header.Get("X-Edge-Control"))
		}
	}
}

// A disk hit served from its file allocates what its Handle and body stream need, not a
// decoding of the record's head per request: 21 allocations before the decoding was kept
// (diskmeta.go), 6 after, 2 since its Cache-Status detail is made once and a fresh disk hit
// no longer copies the request's URL (lookup.own): the Handle and the diskFile.
func TestNode_diskHitDoesNotAllocateAHeadDecoding(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under the race detector")
	}
	n, _ := diskHitNode(t, 256<<10, t.TempDir())
	ctx := benchCtx("/obj.bin")
	n.handleHTTP1(ctx)
	drainBody(ctx)
	resetResponse(ctx)
	n.settleDisk()
	ctx = benchCtx("/obj.bin")
	allocs := testing.AllocsPerRun(200, func() {
		n.handleHTTP1(ctx)
		if !bytes.HasSuffix(ctx.Response.Header.Peek("Cache-Status"), []byte("/disk")) || ctx.Response.StatusCode() != fasthttp.StatusOK {
			t.Fatalf("Cache-Status %q, status %d; want a disk hit", ctx.Response.Header.Peek("Cache-Status"), ctx.Response.StatusCode())
		}
		resetResponse(ctx)
	})
	if allocs > 2 {
		t.Errorf("a disk hit allocates %.0f times, want at most 2", allocs)
	}
}
