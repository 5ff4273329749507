package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

// An owner killed and started again at once under its name (a new incarnation at the same
// gossip address, a new peer port) while a purge of one of its objects is made: through
// every node, before and after the ring settles, clients get the object as the origin has
// it after the purge, never the purged one, never a 508 (a forwarding loop) or a 5xx.
func TestCluster_fastRestartServesNothingPurgedAndNoLoop(t *testing.T) {
	var version atomic.Int64
	version.Store(1)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=600")
		fmt.Fprintf(w, "v%d of %s", version.Load(), r.URL.Path)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	tokenFile := filepath.Join(t.TempDir(), "purge.token")
	os.WriteFile(tokenFile, []byte("purge-token-0123456789"), 0o600)
	procs := launchProcs(t, 3, func(i int, p *proc, join string) string {
		return procYAML(p, join, "http://"+ln.Addr().String(), "memory: 64MiB, hot_ttl: 60s",
			fmt.Sprintf("purge: {token_file: %q, allow: [127.0.0.1/32]}\n", tokenFile))
	})
	get := func(p *proc, path string) (int, string, string) {
		req, _ := http.NewRequest("GET", "http://"+p.http+path, nil)
		req.Host = "site.example"
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("GET %s through %s: %v", path, p.name, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body), resp.Header.Get("Cache-Status")
	}
	// A path node-3 owns (its member comes first in Cache-Status), asked twice through each
	// node so node-1 and node-2 keep hot copies of it.
	path := ""
	for i := range 200 {
		p := fmt.Sprintf("/restart-%d.css", i)
		if _, _, cs := get(procs[0], p); strings.Contains(strings.Split(cs, ",")[0], "detail=node-3") {
			path = p
			break
		}
	}
	if path == "" {
		t.Fatal("no path owned by node-3")
	}
	for range 2 {
		for _, p := range procs {
			get(p, path)
		}
	}

	node3 := procs[2]
	node3.cmd.Process.Signal(syscall.SIGKILL)
	<-node3.exited
	version.Store(2)
	var stdout, stderr bytes.Buffer
	code := run([]string{"purge", "--admin", "http://" + procs[0].admin, "--token-file", tokenFile, "url", "http://site.example" + path}, &stdout, &stderr)
	t.Logf("purge with node-3 down: exit %d, %s", code, strings.TrimSpace(stdout.String()))
	if code != 0 && code != 3 {
		t.Fatalf("purge: exit %d: %s", code, stderr.String())
	}
	node3.start(t, testenv.ShoalBinary(t))

	check := func(when string) {
		for _, p := range procs[:2] {
			status, body, cs := get(p, path)
			if status != 200 || body != "v2 of "+path {
				t.Errorf("%s, through %s: %d %q (Cache-Status %q), want 200 %q", when, p.name, status, body, cs, "v2 of "+path)
			}
		}
	}
	check("while node-3 restarts")
	waitProcReady(t, node3)
	for _, p := range procs {
		waitMetric(t, p, "shoal_edge_cluster_members", "3")
	}
	check("once the ring has node-3 again")
	if status, body, cs := get(node3, path); status != 200 || body != "v2 of "+path {
		t.Errorf("through the restarted node-3: %d %q (Cache-Status %q), want 200 %q", status, body, cs, "v2 of "+path)
	}
}
