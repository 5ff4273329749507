package ring

import (
	"fmt"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/shoal-cdn/shoal/conf"
)

// A node that crashed and is started again under its node.name at a new address (moved to
// another host or IP) was refused: its peers still held the name at the old address, alive
// or suspect until declared dead and then dead until reaped 5 s later (memberlist's default
// DeadNodeReclaimTime 0 never lets another address take a dead member's name), so its Start
// failed as a duplicate and `shoal run` exited. It now waits for the cluster to declare the
// old one dead and rejoins within the detection time; a live node with the name is still
// refused (TestRing_duplicateNameRefusedAndRestartRejoins).
func TestRing_crashedNodeRejoinsAtANewAddress(t *testing.T) {
	rings := startCluster(t, node{}, node{}, node{})
	oldGossip := rings[1].GossipAddr()
	rings[1].Shutdown() // a crash: no leave

	start := time.Now()
	moved := startNode(t, conf.Cluster{Bind: "127.0.0.1:0", Secret: testSecret, Join: []string{rings[0].GossipAddr()}},
		node{self: Member{Name: "edge-2", PeerAddr: "127.0.0.1:19998"}}, 1)
	if moved.GossipAddr() == oldGossip {
		t.Fatalf("the moved node got its old gossip address %s", oldGossip)
	}
	// Sooner than the push/pull every pushPullInterval, which repairs views by itself: Start
	// returned once every member listed the moved node.
	eventually(t, pushPullInterval/4, func() error {
		for _, r := range []*Ring{rings[0], rings[2], moved} {
			ms := r.Members()
			if len(ms) != 3 {
				return fmt.Errorf("%s sees %v, want 3 members", r.Self().Name, names(ms))
			}
			for _, m := range ms {
				if m.Name == "edge-2" && m.PeerAddr != "127.0.0.1:19998" {
					return fmt.Errorf("%s sees edge-2 at %s, want the moved one's 127.0.0.1:19998", r.Self().Name, m.PeerAddr)
				}
			}
		}
		return nil
	})
	t.Logf("moved node in every view %v after its start", time.Since(start).Round(time.Millisecond))
	// The conflicts with its crashed predecessor are not the duplicate names the counter
	// alerts on.
	var m dto.Metric
	if err := moved.metrics.nameConflicts.Write(&m); err != nil {
		t.Fatal(err)
	}
	if got := m.GetCounter().GetValue(); got != 0 {
		t.Errorf("the moved node counted %v name conflicts, want 0", got)
	}
}

// While the member holding the name is alive at its address, a second one is refused at
// once (its gossip port accepts a connection): it does not wait for a death that will not come.
func TestRing_liveDuplicateRefusedWithoutWaiting(t *testing.T) {
	rings := startCluster(t, node{}, node{})
	dup, err := New(conf.Cluster{Bind: "127.0.0.1:0", Secret: testSecret, Join: []string{rings[1].GossipAddr()}},
		Member{Name: "edge-1", PeerAddr: "127.0.0.1:19999"}, Options{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = dup.Start()
	took := time.Since(start)
	dup.Shutdown()
	if err == nil || !strings.Contains(err.Error(), `node.name "edge-1"`) {
		t.Fatalf("Start = %v, want the duplicate refused", err)
	}
	if took > 2*time.Second {
		t.Errorf("the refusal took %v: it waited for a live member's death", took)
	}
}
