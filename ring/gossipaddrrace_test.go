package ring

import (
	"sync"
	"testing"
)

// GossipAddr may be read while this node's metadata changes: it read memberlist's own node
// record, which UpdateNode rewrites, and the race detector caught it against SetOriginsDown
// (edge's TestCluster_nodeAloneWithoutOriginIsNotReady, whose readiness loop announces
// pools down while the test reads the address to join the next node).
func TestRing_gossipAddrWhileMetadataChanges(t *testing.T) {
	rings := startCluster(t, node{}, node{})
	want := rings[0].GossipAddr()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range 20 {
			rings[0].SetOriginsDown(i%2 + 1)
		}
	}()
	for range 200 {
		if got := rings[0].GossipAddr(); got != want {
			t.Fatalf("GossipAddr %q, want %q", got, want)
		}
	}
	wg.Wait()
}
