package edge

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/ring"
)

func TestOriginsWorse(t *testing.T) {
	peers := func(downs ...int) []ring.Member {
		ms := []ring.Member{{Name: "self", OriginsDown: 99}}
		for i, d := range downs {
			ms = append(ms, ring.Member{Name: fmt.Sprintf("p%d", i), OriginsDown: d})
		}
		return ms
	}
	cases := []struct {
		name     string
		down     int
		members  []ring.Member
		notReady bool
	}{
		{"nothing down", 0, peers(0, 0), false},
		{"lone node, pool down", 1, peers(), false},
		{"every node sees it down", 1, peers(1, 1), false},
		{"only this node", 1, peers(0, 0), true},
		{"two-node cluster, only this node", 1, peers(0), true},
		{"half the peers see fewer", 1, peers(0, 1), false},
		{"most peers see fewer", 2, peers(1, 0, 2), true},
		{"peers of an older version do not count", 1, peers(-1, -1, 1), false},
		{"only the peers that say count", 1, peers(-1, 0), true},
	}
	for _, c := range cases {
		if got := originsWorse(c.down, "self", c.members) != ""; got != c.notReady {
			t.Errorf("%s: not ready %v, want %v", c.name, got, c.notReady)
		}
	}
}

// readinessConfig is member node-<index> (public address 127.0.0.<index>, answering DNS with
// every ready edge) whose pool o has the given server and fast active checks.
func readinessConfig(index int, secretFile, join, serverURL string) string {
	joinList := "[]"
	if join != "" {
		joinList = "[" + join + "]"
	}
	return fmt.Sprintf(`node: {name: node-%d, region: local, public_addr: 127.0.0.%d}
listen: {http: "127.0.0.1:0", admin: "127.0.0.1:0", peer: "127.0.0.1:0"}
cache: {memory: 16MiB, max_object_size: 1MiB, fill_timeout: 5s}
cluster: {bind: "127.0.0.1:0", join: %s, secret_file: %s, probe_interval: 1s, probe_timeout: 500ms}
origins: {o: {health: {path: /health, interval: 100ms, timeout: 50ms, rise: 1, fall: 1}, servers: [{url: %q}]}}
routes: [{match: {path_prefix: /}, origin: o, cache: true}]
gslb: {listen: "127.0.0.1:0", zone: %s, names: [www], answers: 3, regions: {local: {cidrs: [127.0.0.0/8]}}}
`, index, index, joinList, secretFile, serverURL, gslbZone)
}

// dnsEdges is the A answer for www of n's DNS server, sorted.
func dnsEdges(t *testing.T, n *Node) string {
	t.Helper()
	return strings.Join(wwwSet(t, n, ""), " ")
}

const allEdges = "127.0.0.1 127.0.0.2 127.0.0.3"

// startReadinessCluster runs three nodes; servers[i] is the origin node i reaches.
func startReadinessCluster(t *testing.T, servers [3]string) []*Node {
	t.Helper()
	secret := writeSecret(t)
	var nodes []*Node
	for i, u := range servers {
		join := ""
		if i > 0 {
			join = nodes[0].Ring().GossipAddr()
		}
		nodes = append(nodes, startNode(t, readinessConfig(i+1, secret, join, u), Options{Logger: testLogger(t)}))
	}
	waitMembers(t, nodes, 3)
	return nodes
}

// seenDown reports whether every node sees, in its own view, every member report want pools down.
func seenDown(nodes []*Node, want ...int) bool {
	for _, n := range nodes {
		for _, m := range n.Ring().Members() {
			var idx int
			fmt.Sscanf(m.Name, "node-%d", &idx)
			if idx < 1 || idx > len(want) || m.OriginsDown != want[idx-1] {
				return false
			}
		}
	}
	return true
}

// Issue 13: an origin outage that every node sees moves nothing. Each node gossips its pool
// down, none of them steps back: every member stays alive in every view (so VIP holders, which
// follow the ring state, stay put), every node's DNS answers name every edge, and /readyz
// stays ready.
func TestCluster_sharedOriginOutageKeepsEveryNodeReady(t *testing.T) {
	var down atomic.Bool
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, "ok")
	})
	nodes := startReadinessCluster(t, [3]string{origin.URL, origin.URL, origin.URL})
	for _, n := range nodes {
		pollUntil(t, 10*time.Second, n.name+" answering DNS with every edge", func() bool { return dnsEdges(t, n) == allEdges })
	}
	down.Store(true)
	// Readiness is judged every second; a node steps back after seeing its view worse than its
	// peers' for the grace (3 s plus the check interval): watch well past it.
	for end := time.Now().Add(originGraceBase + 3*readinessInterval/2); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		for _, n := range nodes {
			if !n.ready.Load() {
				t.Fatalf("%s went not ready on an outage every node shares", n.name)
			}
			if alive := aliveMembers(n); len(alive) != 3 {
				t.Fatalf("%s sees alive members %v, want all 3", n.name, alive)
			}
			if got := dnsEdges(t, n); got != allEdges {
				t.Fatalf("%s answers www with %q during a shared outage, want every edge %q", n.name, got, allEdges)
			}
		}
	}
	if !seenDown(nodes, 1, 1, 1) {
		t.Fatal("not every node saw every member report its pool down: the test proved nothing")
	}
}

// A node that alone cannot reach the origin steps back (not ready: DNS answers drop it, and
// its VIPs go to peers); its peers stay ready.
func TestCluster_nodeAloneWithoutOriginIsNotReady(t *testing.T) {
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	unreachable := "http://" + ln.Addr().String()
	ln.Close()
	nodes := startReadinessCluster(t, [3]string{unreachable, origin.URL, origin.URL})
	pollUntil(t, 10*time.Second, "node-1 to go not ready in every view", func() bool {
		for _, n := range nodes {
			for _, m := range n.Ring().Members() {
				if m.Name == "node-1" && m.State != ring.StateNotReady {
					return false
				}
			}
		}
		return !nodes[0].ready.Load()
	})
	for _, n := range nodes {
		pollUntil(t, 5*time.Second, n.name+" answering DNS without node-1", func() bool { return dnsEdges(t, n) == "127.0.0.2 127.0.0.3" })
	}
	for end := time.Now().Add(readinessInterval + readinessInterval/2); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		for _, n := range nodes[1:] {
			if !n.ready.Load() {
				t.Fatalf("%s went not ready though it reaches the origin", n.name)
			}
		}
	}
}
