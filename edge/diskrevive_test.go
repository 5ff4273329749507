package edge

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// A node whose disk directory is removed under it turns the tier off (memory only) and, once
// the directory is back, serves disk hits again without a restart: HTTP/1.1 from the segment
// file, byte-exact. Before, the tier stayed off until the process restarted.
func TestDiskTier_comesBackWhenItsDirectoryDoes(t *testing.T) {
	want := largeBody(2 << 20)
	var fetches atomic.Int64
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		w.Header().Set("Cache-Control", "max-age=600")
		w.Header().Set("Content-Length", fmt.Sprint(len(want)))
		w.Write(want)
	})
	n, _ := largeDiskNode(t, origin.URL, "")
	dir := n.disk.d.Stats().Path
	base := "http://" + n.HTTPAddr()
	diskHit := func(path string) bool {
		t.Helper()
		resp, body := getRange(t, base+path, "")
		if resp.StatusCode != http.StatusOK || !bytes.Equal(body, want) {
			t.Fatalf("%s: %d, %d bytes, not the origin's", path, resp.StatusCode, len(body))
		}
		return strings.Contains(resp.Header.Get("Cache-Status"), "/disk")
	}
	diskHit("/a")
	n.settleDisk()
	if !diskHit("/a") {
		t.Fatal("no disk hit before the failure")
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	diskHit("/b") // its spool cannot be created: the tier goes off
	n.settleDisk()
	if !n.disk.d.Disabled() {
		t.Fatal("the tier stayed on in a removed directory")
	}
	before := fetches.Load()
	if diskHit("/a") || fetches.Load() != before+1 {
		t.Fatal("a disabled tier served a hit")
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for s := n.disk.d.Stats(); s.Disabled || s.Loading; s = n.disk.d.Stats() {
		if time.Now().After(deadline) {
			t.Fatalf("the tier did not come back within 10 s: %+v", s)
		}
		time.Sleep(10 * time.Millisecond)
	}
	diskHit("/c")
	n.settleDisk()
	if !diskHit("/c") {
		t.Fatal("no disk hit after the tier came back")
	}
}
