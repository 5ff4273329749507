package edge

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

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
		n.disk.d.Wait()
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
