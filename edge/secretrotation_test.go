package edge

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestCluster_secretRotationMidway: the cluster secret (gossip encryption, the peer port,
// peer purges) could not be rotated without taking the cluster apart: a node restarted with
// a new secret_file formed a cluster of its own. cluster.accept_secret_files lists secrets
// also accepted, so a rolling rotation (accept the new one everywhere; make it the
// secret_file, accepting the old; drop the old) keeps one cluster at every step. Here is the
// middle step, two nodes with different secret files that accept each other's: they gossip,
// forward to each other's keys and acknowledge each other's purges.
func TestCluster_secretRotationMidway(t *testing.T) {
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		fmt.Fprint(w, "body of "+r.URL.Path)
	})
	dir := t.TempDir()
	write := func(name, text string) string {
		file := filepath.Join(dir, name)
		if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return file
	}
	oldKey, newKey := write("old.key", "the-old-cluster-secret-0123456789"), write("new.key", "the-new-cluster-secret-9876543210")
	token := write("purge.token", "purge-token-for-tests-0123456789")
	config := func(name, secret, accept, join string) string {
		yaml := clusterConfigWith(t, name, secret, join, origin.URL, ", accept_secret_files: ["+accept+"]")
		return yaml + "purge: {token_file: " + token + "}\n"
	}
	a := startNode(t, config("node-a", oldKey, newKey, ""), Options{Logger: testLogger(t)})
	b := startNode(t, config("node-b", newKey, oldKey, a.Ring().GossipAddr()), Options{Logger: testLogger(t)})
	nodes := []*Node{a, b}
	waitMembers(t, nodes, 2)

	for _, n := range nodes { // each node owns some of these keys: every one is asked through both
		for i := range 8 {
			path := fmt.Sprintf("/r%d", i)
			status, h, body := get(t, "http://"+n.HTTPAddr()+path, "Host", "www.example.com")
			if status != 200 || body != "body of "+path {
				t.Fatalf("%s%s: %d %q (%s)", n.name, path, status, body, h.Get("Cache-Status"))
			}
		}
	}
	if got := origin.requests.Load(); got != 8 {
		t.Errorf("the origin saw %d requests for 8 objects asked through both nodes: the nodes did not forward to each other", got)
	}
	for _, n := range nodes {
		req, _ := http.NewRequest("POST", "http://"+n.AdminAddr()+"/purge", strings.NewReader(`{"all": true}`))
		req.Header.Set("Authorization", "Bearer purge-token-for-tests-0123456789")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var answer struct{ Acked, Missing []string }
		json.NewDecoder(resp.Body).Decode(&answer)
		resp.Body.Close()
		slices.Sort(answer.Acked)
		if !slices.Equal(answer.Acked, []string{"node-a", "node-b"}) || len(answer.Missing) > 0 {
			t.Errorf("purge through %s: acked %v, missing %v; want both acked", n.name, answer.Acked, answer.Missing)
		}
	}
}
