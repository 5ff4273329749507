package edge

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Keys the node reads only at start (the ring's member record, memberlist, the VIP manager,
// the loggers) refuse a reload that changes them, as listen and gslb do, instead of logging
// "configuration reloaded" and running on the old values; bounded_load is read per request
// and reloads.
func TestNode_reloadRefusesStartOnlyKeys(t *testing.T) {
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") })
	routes := oneRoute(false, origin.URL)[len("node: {name: test-edge}\n"):]
	base := "node: {name: test-edge, region: local, public_addr: 127.0.0.7}\n" + routes
	n := startNode(t, "listen: {http: \"127.0.0.1:0\", admin: \"127.0.0.1:0\"}\n"+base, Options{})
	for name, yaml := range map[string]string{
		"node.region":      "node: {name: test-edge, region: other, public_addr: 127.0.0.7}\n" + routes,
		"node.public_addr": "node: {name: test-edge, region: local, public_addr: 127.0.0.8}\n" + routes,
		"node.weight":      "node: {name: test-edge, region: local, public_addr: 127.0.0.7, weight: 3}\n" + routes,
		"cluster.vnodes":   base + "cluster: {vnodes: 80}\n",
		"cluster.probe":    base + "cluster: {probe_interval: 400ms}\n",
		"vip.addresses":    base + "vip: {interface: lo, addresses: [10.200.0.1/32]}\n",
		"log.level":        base + "log: {level: debug}\n",
		"log.access":       base + "log: {access: \"off\"}\n",
	} {
		if err := reloadConfig(t, n, yaml); err == nil || !strings.Contains(err.Error(), "restart") {
			t.Errorf("Reload changing %s: %v, want it refused (a restart)", name, err)
		}
	}
	if err := reloadConfig(t, n, base+"cluster: {bounded_load: 1.25}\n"); err != nil {
		t.Errorf("Reload changing cluster.bounded_load: %v, want it applied", err)
	}
	if got := n.rt.Load().cfg.Cluster.BoundedLoad; got != 1.25 {
		t.Errorf("cluster.bounded_load after the reload: %v, want 1.25", got)
	}
}

// A purge token rotated by SIGHUP takes effect: the old token is refused and the new one
// accepted (the purge service was built at start and Reload never handed it the new keys).
func TestNode_reloadRotatesThePurgeToken(t *testing.T) {
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") })
	dir := t.TempDir()
	oldToken, newToken := "old-purge-token-0123456789abcdef", "new-purge-token-0123456789abcdef"
	oldFile, newFile := filepath.Join(dir, "old.token"), filepath.Join(dir, "new.token")
	if err := os.WriteFile(oldFile, []byte(oldToken), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(newFile, []byte(newToken), 0o600); err != nil {
		t.Fatal(err)
	}
	purgeKeys := func(file string) string {
		return fmt.Sprintf("purge: {token_file: %s, allow: [127.0.0.0/8]}\n", file)
	}
	n := startNode(t, "listen: {http: \"127.0.0.1:0\", admin: \"127.0.0.1:0\"}\n"+oneRoute(true, origin.URL)+purgeKeys(oldFile), Options{})
	body := fmt.Sprintf(`{"url": "http://%s/x"}`, n.HTTPAddr())
	if code, out := postPurge(t, n.AdminAddr(), oldToken, body); code != http.StatusOK {
		t.Fatalf("purge with the configured token: %d %v", code, out)
	}
	if err := reloadConfig(t, n, oneRoute(true, origin.URL)+purgeKeys(newFile)); err != nil {
		t.Fatal(err)
	}
	if code, _ := postPurge(t, n.AdminAddr(), oldToken, body); code == http.StatusOK {
		t.Errorf("purge with the old token after the reload: %d, want it refused", code)
	}
	if code, out := postPurge(t, n.AdminAddr(), newToken, body); code != http.StatusOK {
		t.Errorf("purge with the new token after the reload: %d %v, want 200", code, out)
	}
}
