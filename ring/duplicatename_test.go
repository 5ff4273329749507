package ring

import (
	"strings"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/conf"
)

// Two nodes named alike: the second one joined as a cluster of its own (memberlist refused
// its alive messages, logging "Conflicting address" every round), owning every key while the
// others kept the first. Its Start now fails naming node.name, whether it joins through the
// first node or another member, and the cluster keeps the first. A node restarted under its
// own name at its own address (after a crash) still rejoins.
func TestRing_duplicateNameRefusedAndRestartRejoins(t *testing.T) {
	rings := startCluster(t, node{}, node{})
	for _, via := range []*Ring{rings[0], rings[1]} {
		dup, err := New(conf.Cluster{Bind: "127.0.0.1:0", Secret: testSecret, Join: []string{via.GossipAddr()}},
			Member{Name: "edge-1", PeerAddr: "127.0.0.1:19999"}, Options{Logger: testLogger(t)})
		if err != nil {
			t.Fatal(err)
		}
		err = dup.Start()
		if err == nil || !strings.Contains(err.Error(), `node.name "edge-1"`) || !strings.Contains(err.Error(), rings[0].GossipAddr()) {
			t.Errorf("a second edge-1 joining through %s: Start = %v, want an error naming node.name and the member's address", via.Self().Name, err)
		}
		dup.Shutdown()
	}
	time.Sleep(300 * time.Millisecond) // gossip rounds in which a duplicate would show
	for _, r := range rings {
		for _, m := range r.Members() {
			if m.Name == "edge-1" && m.PeerAddr != rings[0].Self().PeerAddr {
				t.Errorf("%s sees edge-1 at %s, want the first one's %s", r.Self().Name, m.PeerAddr, rings[0].Self().PeerAddr)
			}
		}
	}
	waitMembers(t, rings, 2)

	// edge-2 crashes (no leave) and comes back under its name at its address.
	addr := rings[1].GossipAddr()
	rings[1].Shutdown()
	back := startNode(t, conf.Cluster{Bind: addr, Secret: testSecret, Join: []string{rings[0].GossipAddr()}}, node{}, 1)
	waitMembers(t, []*Ring{rings[0], back}, 2)
}
