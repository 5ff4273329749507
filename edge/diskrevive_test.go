package edge

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
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

// A node started while its disk directory was missing (a disk not mounted yet) kept the tier
// off until it restarted. It comes on once the directory appears: the objects on it are
// served from disk, except one a purge made while it was missing removed.
func TestDiskTier_comesOnWhenItsDirectoryAppearsAfterStart(t *testing.T) {
	want := largeBody(2 << 20)
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=600")
		w.Header().Set("Content-Length", fmt.Sprint(len(want)))
		w.Write(want)
	})
	root := t.TempDir()
	dir := filepath.Join(root, "cache")
	os.Mkdir(dir, 0o755)
	token := "purge-token-0123456789abcdef"
	tokenFile := filepath.Join(root, "purge.token")
	os.WriteFile(tokenFile, []byte(token), 0o600)
	yaml := strings.Replace(oneRoute(true, origin.URL), "max_object_size: 8MiB, fill_timeout: 5s}",
		fmt.Sprintf("max_object_size: 1MiB, fill_timeout: 5s, disk: {path: %q, size: 128MiB}}", dir), 1) +
		fmt.Sprintf("purge: {token_file: %s, allow: [127.0.0.0/8]}\n", tokenFile)
	get := func(n *Node, path string) (fromDisk bool) {
		t.Helper()
		req, _ := http.NewRequest("GET", "http://"+n.HTTPAddr()+path, nil)
		req.Host = "www.example"
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK || !bytes.Equal(body, want) {
			t.Fatalf("%s: %d, %d bytes, %v: not the origin's", path, resp.StatusCode, len(body), err)
		}
		return strings.Contains(resp.Header.Get("Cache-Status"), "/disk")
	}

	first := startNode(t, yaml, Options{Logger: testLogger(t)})
	waitDiskReady(t, first)
	get(first, "/a")
	get(first, "/b")
	first.settleDisk()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	first.Shutdown(ctx)
	cancel()
	if err := os.Rename(dir, dir+".unmounted"); err != nil {
		t.Fatal(err)
	}

	n := startNode(t, yaml, Options{Logger: testLogger(t)})
	if !n.disk.d.Disabled() {
		t.Fatal("the tier is on without its directory")
	}
	if status, _ := postPurge(t, n.AdminAddr(), token, `{"url": "http://www.example/a"}`); status != http.StatusOK {
		t.Fatalf("purge: %d", status)
	}
	if err := os.Rename(dir+".unmounted", dir); err != nil {
		t.Fatal(err)
	}
	waitDiskReady(t, n)
	if !get(n, "/b") {
		t.Fatal("/b, on the directory that appeared, was not a disk hit")
	}
	if get(n, "/a") {
		t.Fatal("/a, purged while the directory was missing, was served from disk")
	}
}
