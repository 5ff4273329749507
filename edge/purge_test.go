package edge

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// purgeCluster is a cluster whose members accept purges with token.
func purgeCluster(t *testing.T, size int, originURL string) ([]*Node, string) {
	t.Helper()
	dir := t.TempDir()
	token := "purge-token-0123456789abcdef"
	tokenFile := filepath.Join(dir, "purge.token")
	os.WriteFile(tokenFile, []byte(token), 0o600)
	extra := fmt.Sprintf("purge: {token_file: %s, allow: [127.0.0.0/8]}\n", tokenFile)
	secret := writeSecret(t)
	var nodes []*Node
	for i := 0; i < size; i++ {
		join := ""
		if i > 0 {
			join = nodes[0].Ring().GossipAddr()
		}
		cfg := clusterConfig(t, fmt.Sprintf("node-%d", i+1), secret, join, originURL) + extra
		nodes = append(nodes, startNode(t, cfg, Options{Logger: testLogger(t)}))
	}
	waitMembers(t, nodes, size)
	return nodes, token
}

func postPurge(t *testing.T, admin, token, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", "http://"+admin+"/purge", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// Five nodes, objects spread over owners and hot-copied on non-owners; a purge by tag through
// one node's API leaves no node serving the old version.
func TestCluster_purgeByTagReachesEveryNode(t *testing.T) {
	var version atomic.Int64
	version.Store(1)
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=600")
		tag := "other"
		if strings.HasPrefix(r.URL.Path, "/product/") {
			tag = "product-42"
		}
		w.Header().Set("Surrogate-Key", tag)
		fmt.Fprintf(w, "v%d %s", version.Load(), r.URL.Path)
	})
	nodes, token := purgeCluster(t, 5, origin.URL)
	paths := []string{"/product/a.css", "/product/b.js", "/product/c.png", "/product/d.svg", "/other/e.css"}
	// Every node asks for every object three times: owners fill, non-owners keep hot copies.
	for round := 0; round < 3; round++ {
		for _, n := range nodes {
			for _, p := range paths {
				get(t, "http://"+n.HTTPAddr()+p, "Host", "shop.example")
			}
		}
	}
	for _, n := range nodes {
		n.settleFills() // every fill has stored: the purge below finds every copy
	}
	version.Store(2)
	start := time.Now()
	status, res := postPurge(t, nodes[2].AdminAddr(), token, `{"key": "product-42"}`)
	acked := time.Since(start)
	if status != 200 {
		t.Fatalf("purge answered %d: %v", status, res)
	}
	if got := len(res["acked"].([]any)); got != 5 || len(res["missing"].([]any)) != 0 {
		t.Errorf("acked %v, missing %v", res["acked"], res["missing"])
	}
	t.Logf("purge by tag acknowledged by all 5 nodes in %v, %v objects removed", acked, res["purged"])
	for _, n := range nodes {
		for _, p := range paths {
			_, _, body := get(t, "http://"+n.HTTPAddr()+p, "Host", "shop.example")
			want := "v2"
			if strings.HasPrefix(p, "/other/") {
				want = "v1" // not tagged: still the cached version
			}
			if !strings.HasPrefix(body, want) {
				t.Errorf("%s serves %q for %s after the purge, want %s", n.name, body, p, want)
			}
		}
	}
}

func TestCluster_purgeMethodOnDataPort(t *testing.T) {
	var version atomic.Int64
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=600")
		fmt.Fprintf(w, "v%d", version.Add(1))
	})
	nodes, _ := purgeCluster(t, 2, origin.URL)
	url := "http://" + nodes[0].HTTPAddr() + "/page.css"
	get(t, url, "Host", "shop.example")
	// The client has the body's last byte before the fill stores the object: wait for the
	// fills (on either node: the key's owner filled it), not for the store.
	nodes[0].settleFills()
	nodes[1].settleFills()
	req, _ := http.NewRequest("PURGE", url, nil)
	req.Host = "shop.example"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(buf.String(), `"purged":1`) {
		t.Fatalf("PURGE: %d %s", resp.StatusCode, buf.String())
	}
	if _, _, body := get(t, url, "Host", "shop.example"); body != "v2" {
		t.Errorf("after PURGE the node serves %q, want a fresh v2", body)
	}
}

func TestNode_purgeRefusals(t *testing.T) {
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {})
	nodes, token := purgeCluster(t, 1, origin.URL)
	admin := nodes[0].AdminAddr()
	cases := []struct {
		token, body string
		want        int
	}{
		{"wrong", `{"all": true}`, 401},
		{token, `{"all": tru`, 400},
		{token, `{"kind": "everything"}`, 400},
		{token, `{"key": ""}`, 400},
		{token, `{"prefix": "/img/"}`, 400},
	}
	for _, c := range cases {
		if status, _ := postPurge(t, admin, c.token, c.body); status != c.want {
			t.Errorf("%s with token %q: %d, want %d", c.body, c.token, status, c.want)
		}
	}
}
