package ring

import (
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// A node re-announcing metadata it already gossiped (its readiness loop runs every second)
// changes no ring: no change counted, no OnChange, on itself or its peers. Under packet loss
// every needless change was a rebuild, a DNS answer set and a VIP decision on every node.
// One real change is exactly one change everywhere.
func TestRing_unchangedMetadataIsNoRingChange(t *testing.T) {
	var regs [2]*prometheus.Registry
	var nodes [2]node
	for i := range nodes {
		regs[i] = prometheus.NewRegistry()
		nodes[i].opts.Registerer = regs[i]
	}
	rings := startCluster(t, nodes[0], nodes[1])
	changes := func() [2]float64 {
		return [2]float64{gather(t, regs[0])["shoal_ring_changes_total"], gather(t, regs[1])["shoal_ring_changes_total"]}
	}
	// Settle the join's own changes and announce a first value.
	if err := rings[0].SetOriginsDown(1); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, func() error {
		if got := peerView(rings[1], rings[0].Self().Name).OriginsDown; got != 1 {
			return fmt.Errorf("peer sees origins down %d, want 1", got)
		}
		return nil
	})
	time.Sleep(300 * time.Millisecond) // push/pull and gossip echoes of the join settle
	before := changes()
	const ticks = 20
	for range ticks {
		if err := rings[0].SetOriginsDown(1); err != nil {
			t.Fatal(err)
		}
		if err := rings[0].SetState(StateAlive); err != nil {
			t.Fatal(err)
		}
		if err := rings[0].SetVIPs(rings[0].Self().VIPs); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(500 * time.Millisecond)
	if got := changes(); got != before {
		t.Errorf("%d unchanged announcements: ring changes went from %v to %v, want none", 3*ticks, before, got)
	}
	if err := rings[0].SetOriginsDown(2); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, func() error {
		if got := peerView(rings[1], rings[0].Self().Name).OriginsDown; got != 2 {
			return fmt.Errorf("peer sees origins down %d, want 2", got)
		}
		return nil
	})
	time.Sleep(500 * time.Millisecond)
	if got, want := changes(), [2]float64{before[0] + 1, before[1] + 1}; got != want {
		t.Errorf("one change of origins down: ring changes %v, want %v", got, want)
	}
}

func peerView(r *Ring, name string) Member {
	for _, m := range r.Members() {
		if m.Name == name {
			return m
		}
	}
	return Member{OriginsDown: -2}
}
