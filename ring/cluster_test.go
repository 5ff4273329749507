package ring

import (
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/conf"
)

func testKey(i int) string { return fmt.Sprintf("http://www.example.com/img/%d.png", i) }

// agreeOnOwners reports an error unless every ring names the same owner for every key and
// none of them names a member in excluded.
func agreeOnOwners(rings []*Ring, keys int, excluded ...string) error {
	for i := range keys {
		k := testKey(i)
		want, _ := rings[0].Owner(k)
		for _, r := range rings {
			got, self := r.Owner(k)
			if got.Name != want.Name {
				return fmt.Errorf("key %q: %s says %s, %s says %s", k, rings[0].Self().Name, want.Name, r.Self().Name, got.Name)
			}
			if self != (got.Name == r.Self().Name) {
				return fmt.Errorf("key %q: %s reports self=%v for owner %s", k, r.Self().Name, self, got.Name)
			}
			if slices.Contains(excluded, got.Name) {
				return fmt.Errorf("key %q is owned by %s, which must own nothing", k, got.Name)
			}
		}
	}
	return nil
}

func TestRing_membersAgreeOnOwners(t *testing.T) {
	rings := startCluster(t, node{}, node{}, node{}, node{self: Member{Weight: 2, Region: "eu-west"}})
	eventually(t, 10*time.Second, func() error { return agreeOnOwners(rings, 2000) })

	owned := map[string]int{}
	for i := range 2000 {
		m, _ := rings[0].Owner(testKey(i))
		owned[m.Name]++
	}
	t.Logf("keys per member: %v", owned)
	for _, r := range rings {
		if owned[r.Self().Name] == 0 {
			t.Errorf("%s owns no keys", r.Self().Name)
		}
	}
	// Metadata arrives intact: edge-4's weight and region as seen by edge-1.
	i := slices.IndexFunc(rings[0].Members(), func(m Member) bool { return m.Name == "edge-4" })
	if got := rings[0].Members()[i]; got.Weight != 2 || got.Region != "eu-west" || got.PeerAddr != "127.0.0.1:18083" {
		t.Errorf("edge-1 sees edge-4 as %+v", got)
	}
	if got := names(rings[2].Owners(testKey(7), 10)); len(got) != 4 {
		t.Errorf("Owners(k, 10) = %v, want all 4 members", got)
	}
}

func TestRing_drainingMemberOwnsNothing(t *testing.T) {
	rings := startCluster(t, node{}, node{}, node{})
	drained := rings[1].Self().Name
	if err := rings[1].SetState(StateDraining); err != nil {
		t.Fatal(err)
	}
	took := eventually(t, 10*time.Second, func() error {
		for _, r := range rings {
			i := slices.IndexFunc(r.Members(), func(m Member) bool { return m.Name == drained })
			if i < 0 || r.Members()[i].State != StateDraining {
				return fmt.Errorf("%s does not see %s draining yet", r.Self().Name, drained)
			}
		}
		return agreeOnOwners(rings, 2000, drained)
	})
	t.Logf("draining state propagated in %s", took)
	if len(rings[0].Members()) != 3 {
		t.Errorf("a draining node must stay a member: %v", names(rings[0].Members()))
	}

	if err := rings[1].SetState(StateAlive); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, func() error {
		if err := agreeOnOwners(rings, 2000); err != nil {
			return err
		}
		for i := range 2000 {
			if m, _ := rings[0].Owner(testKey(i)); m.Name == drained {
				return nil
			}
		}
		return fmt.Errorf("%s is alive again but owns nothing", drained)
	})
}

func TestRing_crashedMemberLeavesWithinBound(t *testing.T) {
	rings := startCluster(t, node{}, node{}, node{}, node{}, node{})
	crashed := rings[4]
	// Shutdown without Leave: the others learn of it only through failure detection.
	if err := crashed.Shutdown(); err != nil {
		t.Fatal(err)
	}
	took := eventually(t, 10*time.Second, func() error {
		for _, r := range rings[:4] {
			if slices.Contains(names(r.Members()), crashed.Self().Name) {
				return fmt.Errorf("%s still lists %s", r.Self().Name, crashed.Self().Name)
			}
		}
		return nil
	})
	t.Logf("crashed member removed from every view after %s (target 1-2s on a LAN)", took)
	eventually(t, 5*time.Second, func() error { return agreeOnOwners(rings[:4], 1000, crashed.Self().Name) })
}

func TestRing_gracefulLeaveIsSeenQuickly(t *testing.T) {
	rings := startCluster(t, node{}, node{}, node{})
	start := time.Now()
	if err := rings[2].Leave(time.Second); err != nil {
		t.Fatalf("Leave: %v", err)
	}
	took := eventually(t, 5*time.Second, func() error {
		for _, r := range rings[:2] {
			if len(r.Members()) != 2 {
				return fmt.Errorf("%s sees %v", r.Self().Name, names(r.Members()))
			}
		}
		return nil
	})
	t.Logf("graceful leave seen by all %s after Leave was called (%s after it returned)", time.Since(start), took)
	if err := rings[2].Shutdown(); err != nil {
		t.Errorf("Shutdown after Leave: %v", err)
	}
}

func TestRing_wrongGossipKeyCannotJoin(t *testing.T) {
	rings := startCluster(t, node{}, node{})
	intruder := startNode(t, conf.Cluster{
		Bind:   "127.0.0.1:0",
		Secret: "some other secret entirely",
		Join:   []string{rings[0].GossipAddr()},
	}, node{}, 9)
	// Start made one synchronous join attempt; a right key would have merged state by now
	// (TestRing_membersAgreeOnOwners relies on the same). Watch a little longer to let the
	// background retry and gossip have their chance.
	deadline := time.Now().Add(1500 * time.Millisecond)
	for time.Now().Before(deadline) {
		if got := len(intruder.Members()); got != 1 {
			t.Fatalf("intruder with the wrong key sees %v", names(intruder.Members()))
		}
		for _, r := range rings {
			if slices.Contains(names(r.Members()), intruder.Self().Name) {
				t.Fatalf("%s accepted the intruder: %v", r.Self().Name, names(r.Members()))
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestRing_rightKeyWithWhitespaceJoins(t *testing.T) {
	rings := startCluster(t, node{}, node{secret: "\n  " + testSecret + "\n"})
	if len(rings[1].Members()) != 2 {
		t.Fatal("unreachable: startCluster waits for membership")
	}
}

func TestRing_broadcastReachesOtherMembers(t *testing.T) {
	got := make([]chan []byte, 3)
	nodes := make([]node, 3)
	for i := range nodes {
		ch := make(chan []byte, 4)
		got[i] = ch
		nodes[i].opts.OnMessage = func(msg []byte) { ch <- msg }
	}
	rings := startCluster(t, nodes...)
	rings[0].Broadcast([]byte("purge generation 42"))
	for i := 1; i < 3; i++ {
		select {
		case msg := <-got[i]:
			if string(msg) != "purge generation 42" {
				t.Errorf("%s received %q", rings[i].Self().Name, msg)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s did not receive the broadcast", rings[i].Self().Name)
		}
	}
	select {
	case msg := <-got[0]:
		t.Errorf("the sender received its own broadcast %q", msg)
	default:
	}
}

func TestRing_onChangeIsCalledAndNeverConcurrent(t *testing.T) {
	var calls, running, overlaps atomic.Int32
	onChange := func() {
		if running.Add(1) > 1 {
			overlaps.Add(1)
		}
		calls.Add(1)
		time.Sleep(time.Millisecond) // widen the window an overlap would need
		running.Add(-1)
	}
	first := node{}
	first.opts.OnChange = onChange
	rings := startCluster(t, first, node{}, node{}, node{})
	eventually(t, 5*time.Second, func() error {
		if calls.Load() == 0 {
			return fmt.Errorf("OnChange not called after %d members joined", len(rings)-1)
		}
		return nil
	})
	before := calls.Load()
	if err := rings[2].SetState(StateDraining); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, func() error {
		if calls.Load() == before {
			return fmt.Errorf("OnChange not called after a peer started draining")
		}
		return nil
	})
	if overlaps.Load() != 0 {
		t.Errorf("OnChange ran concurrently with itself %d times", overlaps.Load())
	}
}
