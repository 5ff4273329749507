package edge

import (
	"fmt"
	"net/http"
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
	secret := writeSecret(t)
	first := startNode(t, readinessConfig(1, secret, "", flaky.URL), Options{Logger: testLogger(t)})
	second := startNode(t, readinessConfig(2, secret, first.Ring().GossipAddr(), steady.URL), Options{Logger: testLogger(t)})
	nodes := []*Node{first, second}
	waitMembers(t, nodes, 2)
	pollUntil(t, 10*time.Second, "both members reporting no pool down", func() bool { return seenDown(nodes, 0, 0) })
	time.Sleep(time.Second) // the join's own changes and first readiness ticks settle

	before := [2]float64{ringChanges(t, first), ringChanges(t, second)}
	var j originJudge
	const ticks = 20
	for range ticks {
		first.judgeReadiness(&j)
	}
	time.Sleep(readinessInterval + 200*time.Millisecond) // and a tick of the nodes' own loops
	if got := [2]float64{ringChanges(t, first), ringChanges(t, second)}; got != before {
		t.Errorf("%d readiness ticks with nothing changed: ring changes %v -> %v, want none", ticks, before, got)
	}

	downAt := time.Now()
	down.Store(true) // node-1's pool fails its checks: it sees 1 pool down, node-2 none
	pollUntil(t, 5*time.Second, "node-2 seeing node-1 report its pool down", func() bool { return seenDown(nodes, 1, 0) })
	time.Sleep(500 * time.Millisecond) // normally well inside the grace before node-1 steps back
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
