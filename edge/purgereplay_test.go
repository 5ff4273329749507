package edge

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/conf"
	"github.com/shoal-cdn/shoal/internal/testenv"
)

// A purge a node missed while it was down reaches its disk after a restart, from a peer's ban
// log, with the keys the route gave the URL when the purge was made, even after a reload took
// the route's rewrite away: the object /assets/aN.css was stored under /aN.css, and a ban
// of /assets/aN.css alone (or one resolved again through the new routes) would leave it on
// the disk, where a request for /aN.css (the same origin request) finds it.
func TestPurge_banReplayedAfterRestartKeepsItsRouteKeys(t *testing.T) {
	ngx := testenv.StartNginx(t, testenv.NginxOptions{Extra: `location / { expires 60s; return 200 "$request_id\n"; }`})
	token := "purge-token-0123456789abcdef"
	tokenFile := filepath.Join(t.TempDir(), "purge.token")
	if err := os.WriteFile(tokenFile, []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}
	secret := writeSecret(t)
	const rewrite = `  - {match: {path_prefix: /assets/}, origin: o, cache: true, rewrite: {strip_prefix: /assets}}
`
	yaml := func(name, join, disk, routes string) string {
		return fmt.Sprintf(`node: {name: %s, region: local}
listen: {http: "127.0.0.1:0", admin: "127.0.0.1:0", peer: "127.0.0.1:0"}
cache: {memory: 64MiB, max_object_size: 8MiB, fill_timeout: 5s, disk: {path: %q, size: 16MiB}}
cluster: {bind: "127.0.0.1:0", join: [%s], secret_file: %s}
purge: {token_file: %s, allow: [127.0.0.0/8]}
origins: {o: {servers: [{url: %q}]}}
routes:
%s  - {match: {path_prefix: /}, origin: o, cache: true}
`, name, disk, join, secret, tokenFile, ngx.URL, routes)
	}
	disk1, disk2 := t.TempDir(), t.TempDir()
	n1 := startNode(t, yaml("node-1", "", disk1, rewrite), Options{Logger: testLogger(t)})
	n2 := startNode(t, yaml("node-2", n1.Ring().GossipAddr(), disk2, rewrite), Options{Logger: testLogger(t)})
	waitMembers(t, []*Node{n1, n2}, 2)
	waitDiskReady(t, n2)

	// A path whose key node-2 owns, so the object is on node-2's disk.
	var path string
	for i := range 64 {
		if m, _ := n2.Ring().Owner(fmt.Sprintf("http://www.example.com/a%d.css", i)); m.Name == "node-2" {
			path = fmt.Sprintf("/a%d.css", i)
			break
		}
	}
	if path == "" {
		t.Fatal("node-2 owns none of 64 keys")
	}
	host := []string{"Host", "www.example.com"}
	_, _, old := do(t, "GET", "http://"+n2.HTTPAddr()+"/assets"+path, "", host...)
	if _, h, b := do(t, "GET", "http://"+n2.HTTPAddr()+path, "", host...); b != old {
		t.Fatalf("%s is not the object /assets%s was stored as: %q %q", path, path, b, h.Get("Cache-Status"))
	}
	n2.settleFills()
	n2.settleDisk()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	n2.Shutdown(ctx)
	cancel()

	if status, res := postPurge(t, n1.AdminAddr(), token, `{"url": "http://www.example.com/assets`+path+`"}`); status != 200 {
		t.Fatalf("purge: %d %v", status, res)
	}
	cfg, err := conf.Parse([]byte(yaml("node-1", "", disk1, "")), "test.yaml", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := n1.Reload(cfg); err != nil {
		t.Fatal(err)
	}

	n2 = startNode(t, yaml("node-2", n1.Ring().GossipAddr(), disk2, ""), Options{Logger: testLogger(t)})
	waitDiskReady(t, n2) // loaded objects are served once the peers' ban logs are applied
	if _, h, b := do(t, "GET", "http://"+n2.HTTPAddr()+path, "", host...); b == old {
		t.Errorf("after the restart node-2 serves the purged object: %q %q", b, h.Get("Cache-Status"))
	}
}
