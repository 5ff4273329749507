package edge

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/conf"
)

// diskClusterConfig is clusterConfig with a disk tier of its own per node.
func diskClusterConfig(t *testing.T, name, secret, join, originURL string) string {
	cfg := clusterConfig(t, name, secret, join, originURL)
	disk := fmt.Sprintf("hot_ttl: 30s, disk: {path: %q, size: 16MiB}}", t.TempDir())
	if !strings.Contains(cfg, "hot_ttl: 30s}") {
		t.Fatal("clusterConfig changed: no hot_ttl to extend")
	}
	return strings.Replace(cfg, "hot_ttl: 30s}", disk, 1)
}

// In a cluster each object is on disk on its owner only: the hot copies non-owners keep
// (cache.hot_local) never reach their disks, so the cluster's disk capacity adds up.
func TestDiskTier_objectsOnTheOwnersDiskOnly(t *testing.T) {
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=600")
		fmt.Fprint(w, "body of "+r.URL.Path)
	})
	secret := writeSecret(t)
	var nodes []*Node
	for i := range 3 {
		join := ""
		if i > 0 {
			join = nodes[0].Ring().GossipAddr()
		}
		nodes = append(nodes, startNode(t, diskClusterConfig(t, fmt.Sprintf("node-%d", i+1), secret, join, origin.URL), Options{}))
	}
	waitMembers(t, nodes, 3)
	const paths = 24
	hot := 0
	for round := range 3 {
		for _, n := range nodes {
			for p := range paths {
				status, h, body := get(t, fmt.Sprintf("http://%s/obj/%d", n.HTTPAddr(), p), "Host", "site.example")
				if status != 200 || body != fmt.Sprintf("body of /obj/%d", p) {
					t.Fatalf("%s /obj/%d: %d %q", n.name, p, status, body)
				}
				if round == 2 && strings.Contains(h.Get("Cache-Status"), "detail="+n.name) && strings.Contains(h.Get("Cache-Status"), "hit") {
					hot++
				}
			}
		}
	}
	if hot <= paths {
		t.Fatalf("%d local hits in the last round, not more than the %d owned objects: no hot copies to test with", hot, paths)
	}
	var onDisk int64
	for _, n := range nodes {
		n.settleDisk()
		s := n.disk.d.Stats()
		onDisk += s.Objects
		t.Logf("%s: %d objects on disk", n.name, s.Objects)
	}
	if got := origin.requests.Load(); got != paths {
		t.Fatalf("%d origin requests, want %d (one fill per object, on its owner)", got, paths)
	}
	if onDisk != paths {
		t.Errorf("%d objects on the nodes' disks, want each of the %d once, on its owner", onDisk, paths)
	}
}

// cache.disk is fixed at start: a reload that changes it is refused, as for cache.memory.
func TestDiskTier_reloadRefusesADiskChange(t *testing.T) {
	dir := t.TempDir()
	yaml := oneRoute(true, "http://127.0.0.1:1")
	yaml = strings.Replace(yaml, "fill_timeout: 5s}", fmt.Sprintf("fill_timeout: 5s, disk: {path: %q, size: 16MiB}}", dir), 1)
	n := startNode(t, yaml, Options{})
	for _, change := range []string{"size: 32MiB", "path: " + fmt.Sprintf("%q", t.TempDir()) + ", size: 16MiB"} {
		changed := strings.Replace(yaml, fmt.Sprintf("path: %q, size: 16MiB", dir), strings.Replace(change, "size: 32MiB", fmt.Sprintf("path: %q, size: 32MiB", dir), 1), 1)
		cfg, err := conf.Parse([]byte("listen: {http: \"127.0.0.1:0\", admin: \"127.0.0.1:0\"}\n"+changed), "test.yaml", t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		cfg.Listen = n.rt.Load().cfg.Listen
		if err := n.Reload(cfg); err == nil || !strings.Contains(err.Error(), "cache.disk") {
			t.Errorf("reload with %s: %v, want refused naming cache.disk", change, err)
		}
	}
}

// Disk hits after a restart, over HTTP/1.1 (sendfile) and HTTP/2 (read from the file):
// exactly the object's bytes, never the records that follow it in the segment, whole or as
// one range.
func TestDiskTier_hitsAfterRestartOverHTTP1AndHTTP2(t *testing.T) {
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=600")
		w.Write(diskTestBody(r.URL.Path))
	})
	dir := t.TempDir()
	certFile, keyFile, pool := writeCert(t, dir, "site", "www.example.test")
	yaml := fmt.Sprintf(`listen: {http: "127.0.0.1:0", https: "127.0.0.1:0", admin: "127.0.0.1:0"}
tls: {certificates: [{cert: %s, key: %s}]}
`, certFile, keyFile) + strings.Replace(oneRoute(true, origin.URL), "fill_timeout: 5s}",
		fmt.Sprintf("fill_timeout: 5s, disk: {path: %q, size: 16MiB}}", t.TempDir()), 1)
	paths := []string{"/a", "/b", "/c"}
	first := startNode(t, yaml, Options{})
	waitDiskReady(t, first)
	fill := tlsClient(pool, false, first.HTTPSAddr())
	for _, p := range paths {
		req, _ := http.NewRequest("GET", "https://"+first.HTTPSAddr()+p, nil)
		req.Host = "www.example.test"
		resp, err := fill.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	first.settleDisk()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	first.Shutdown(ctx)
	cancel()

	n := startNode(t, yaml, Options{})
	waitDiskReady(t, n)
	for _, h2 := range []bool{false, true} {
		c := tlsClient(pool, h2, n.HTTPSAddr())
		for _, p := range paths {
			for _, rng := range []string{"", "bytes=100-199"} {
				req, _ := http.NewRequest("GET", "https://"+n.HTTPSAddr()+p, nil)
				req.Host = "www.example.test"
				want := diskTestBody(p)
				if rng != "" {
					req.Header.Set("Range", rng)
					want = want[100:200]
				}
				resp, err := c.Do(req)
				if err != nil {
					t.Fatalf("h2=%v %s: %v", h2, p, err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if !bytes.Equal(body, want) || !strings.Contains(resp.Header.Get("Cache-Status"), "/disk") {
					t.Errorf("h2=%v %s Range %q: %d, %d bytes (want %d), Cache-Status %q", h2, p, rng, resp.StatusCode, len(body), len(want), resp.Header.Get("Cache-Status"))
				}
			}
		}
	}
	if got := origin.requests.Load(); got != int64(len(paths)) {
		t.Errorf("%d origin requests, want %d: the restarted node served from disk", got, len(paths))
	}
}

// diskTestBody is 300 KiB (above what a disk hit promotes to memory) that names its path.
func diskTestBody(path string) []byte {
	return bytes.Repeat([]byte(fmt.Sprintf("%-16s", path)), 300<<10/16)
}

func waitDiskReady(t testing.TB, n *Node) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !n.disk.ready.Load() {
		if time.Now().After(deadline) {
			t.Fatal("disk tier not ready within 10 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// settleDisk waits until no fill or revalidation is running, memory has applied its Sets
// (and so run the evictions they caused, which write to disk), and the disk tier has written
// everything it was handed; then it ends the finished fills' linger, so that the next
// request is answered by a tier. A client has a fill's last byte before the fill hands the
// object to the tier, so a disk Wait right after a response may run before that handoff,
// and a request within fillLinger of the fill joins the finished fill (a hit, but not from
// disk). A test whose origin still holds a fill open must release it first: this waits for
// that fill.
func (n *Node) settleDisk() {
	n.bg.Wait()
	n.disk.d.Wait()
	n.fills.ForgetAll()
}

// settleFills waits until no fill or revalidation is running and ends the finished fills'
// linger, so that the next request of a filled key is a store hit rather than a join of
// the finished fill (instead of sleeping past fillLinger).
func (n *Node) settleFills() {
	n.bg.Wait()
	n.fills.ForgetAll()
}
