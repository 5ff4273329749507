package edge

import (
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// ringChanges is shoal_ring_changes_total of n.
func ringChanges(t *testing.T, n *Node) float64 {
	t.Helper()
	return metricValue(metricsText(t, n), "shoal_ring_changes_total")
}

// Readiness re-judges every second and announces how many origin pools it sees down. Under
// packet loss every needless announcement was a ring change on every member (a rebuild, DNS
// answers and VIP decisions recomputed): a node whose view does not change makes none over
// many ticks, and one change of its view makes exactly one on each member.
func TestCluster_readinessTicksMakeRingChangesOnlyOnChange(t *testing.T) {
	var down atomic.Bool
	flaky := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, "ok")
	})
	steady := startOrigin(t, func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") })
	ticks := countReadinessTicks(t)
	secret := writeSecret(t)
	first := startNode(t, readinessConfig(1, secret, "", flaky.URL), Options{Logger: testLogger(t)})
	second := startNode(t, readinessConfig(2, secret, first.Ring().GossipAddr(), steady.URL), Options{Logger: testLogger(t)})
	nodes := []*Node{first, second}
	waitMembers(t, nodes, 2)
	pollUntil(t, 10*time.Second, "both members reporting no pool down", func() bool { return seenDown(nodes, 0, 0) })
	// The join's own changes and first readiness ticks settle: no ring change over a whole
	// tick of each node's own loop.
	for settled, deadline := false, time.Now().Add(15*time.Second); !settled; {
		if time.Now().After(deadline) {
			t.Fatal("ring changes still coming 15 s after the join")
		}
		was := [2]float64{ringChanges(t, first), ringChanges(t, second)}
		ticks.wait(t, nodes)
		settled = was == [2]float64{ringChanges(t, first), ringChanges(t, second)}
	}

	before := [2]float64{ringChanges(t, first), ringChanges(t, second)}
	var j originJudge
	const judged = 20
	for range judged {
		first.judgeReadiness(&j)
	}
	ticks.wait(t, nodes) // and a whole tick of the nodes' own loops
	if got := [2]float64{ringChanges(t, first), ringChanges(t, second)}; got != before {
		t.Errorf("%d readiness ticks with nothing changed: ring changes %v -> %v, want none", judged, before, got)
	}

	downAt := time.Now()
	down.Store(true) // node-1's pool fails its checks: it sees 1 pool down, node-2 none
	pollUntil(t, 5*time.Second, "node-2 seeing node-1 report its pool down", func() bool { return seenDown(nodes, 1, 0) })
	// A whole tick of node-1's own loop with its pool down (normally well inside the grace
	// before it steps back) may add nothing more.
	ticks.wait(t, nodes[:1])
	want := [2]float64{before[0] + 1, before[1] + 1}
	got := [2]float64{ringChanges(t, first), ringChanges(t, second)}
	if got != want && time.Since(downAt) >= originGraceBase && !first.ready.Load() {
		// On a loaded machine the gossip took longer than the grace and node-1 rightly
		// stepped back: that is one more change, of its state, and nothing else may come.
		t.Logf("gossip outlasted the %v grace: node-1 stepped back; counting its state change", originGraceBase)
		want = [2]float64{want[0] + 1, want[1] + 1}
		pollUntil(t, 5*time.Second, "node-2 seeing node-1 step back", func() bool { return ringChanges(t, second) >= want[1] })
		got = [2]float64{ringChanges(t, first), ringChanges(t, second)}
	}
	if got != want {
		t.Errorf("one change of pools down: ring changes %v, want %v", got, want)
	}
}

// readinessTicks counts the ticks each node's own readiness loop has judged
// (testHookReadinessJudged).
type readinessTicks struct {
	mu    sync.Mutex
	count map[*Node]int
}

// countReadinessTicks sets the hook for the test.
func countReadinessTicks(t *testing.T) *readinessTicks {
	r := &readinessTicks{count: map[*Node]int{}}
	hook := func(n *Node) {
		r.mu.Lock()
		r.count[n]++
		r.mu.Unlock()
	}
	testHookReadinessJudged.Store(&hook)
	t.Cleanup(func() { testHookReadinessJudged.Store(nil) })
	return r
}

// wait returns once each of nodes has judged a whole tick that began after the call (two
// more ends of a tick: the first may have begun before).
func (r *readinessTicks) wait(t *testing.T, nodes []*Node) {
	t.Helper()
	r.mu.Lock()
	from := map[*Node]int{}
	for _, n := range nodes {
		from[n] = r.count[n]
	}
	r.mu.Unlock()
	pollUntil(t, 10*readinessInterval, "a whole readiness tick of every node", func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, n := range nodes {
			if r.count[n] < from[n]+2 {
				return false
			}
		}
		return true
	})
}
