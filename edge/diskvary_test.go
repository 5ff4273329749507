package edge

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Issue 16: variants of a response with Vary are found on disk after a restart, although
// memory's Vary record for their URL is gone: no origin fetch for a variant stored before,
// each request gets its own variant's bytes, and a variant never stored is a miss.
func TestDiskTier_varyVariantsFoundAfterRestart(t *testing.T) {
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=600")
		w.Header().Set("Vary", "Accept-Language")
		w.Write(varyBody(r.URL.Path, r.Header.Get("Accept-Language")))
	})
	yaml := strings.Replace(oneRoute(true, origin.URL), "fill_timeout: 5s}",
		fmt.Sprintf("fill_timeout: 5s, disk: {path: %q, size: 16MiB}}", t.TempDir()), 1)
	paths, langs := []string{"/small", "/large"}, []string{"en", "fr"}
	first := startNode(t, yaml, Options{})
	waitDiskReady(t, first)
	for _, p := range paths {
		for _, lang := range langs {
			get(t, "http://"+first.HTTPAddr()+p, "Host", "www.example.test", "Accept-Language", lang)
		}
	}
	first.settleDisk()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	first.Shutdown(ctx)
	cancel()
	fills := origin.requests.Load()
	if fills != 4 {
		t.Fatalf("%d origin requests filling 4 variants", fills)
	}

	n := startNode(t, yaml, Options{})
	waitDiskReady(t, n)
	for _, p := range paths {
		for _, lang := range []string{"fr", "en", "fr"} {
			status, h, body := get(t, "http://"+n.HTTPAddr()+p, "Host", "www.example.test", "Accept-Language", lang)
			if status != 200 || body != string(varyBody(p, lang)) || !strings.Contains(h.Get("Cache-Status"), "hit") {
				t.Errorf("%s %s: %d, %d bytes (want %d, its own variant), Cache-Status %q", p, lang, status, len(body), len(varyBody(p, lang)), h.Get("Cache-Status"))
			}
		}
	}
	if got := origin.requests.Load(); got != fills {
		t.Errorf("%d origin requests after the restart, want 0: the variants are on disk", got-fills)
	}
	status, h, body := get(t, "http://"+n.HTTPAddr()+"/small", "Host", "www.example.test", "Accept-Language", "de")
	if status != 200 || body != string(varyBody("/small", "de")) || strings.Contains(h.Get("Cache-Status"), "hit") {
		t.Errorf("a variant never stored: %d, %d bytes, Cache-Status %q; want a miss with its own bytes", status, len(body), h.Get("Cache-Status"))
	}
}

// varyBody is the variant of path for lang: 4 KiB for /small (promoted to memory on a disk
// hit), 300 KiB otherwise (served from the segment file).
func varyBody(path, lang string) []byte {
	size := 300 << 10
	if path == "/small" {
		size = 4 << 10
	}
	return []byte(strings.Repeat(fmt.Sprintf("%-16s", path+" "+lang), size/16))
}
