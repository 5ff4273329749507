package ring

import (
	"fmt"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/conf"
)

// Two members with different cluster.vnodes (one edited, one not yet) built two different
// rings: for many keys each named the other as the owner, so both filled and held a copy and
// the cluster fetched those keys twice from the origin. Members gossip their vnodes and the
// ring uses the smallest, so owners agree; the mismatch is logged.
func TestRing_ownersAgreeWhenVNodesDiffer(t *testing.T) {
	a := startNode(t, conf.Cluster{Bind: "127.0.0.1:0", Secret: testSecret, VNodes: 160}, node{}, 0)
	b := startNode(t, conf.Cluster{Bind: "127.0.0.1:0", Secret: testSecret, VNodes: 7, Join: []string{a.GossipAddr()}}, node{}, 1)
	c := startNode(t, conf.Cluster{Bind: "127.0.0.1:0", Secret: testSecret, Join: []string{a.GossipAddr()}}, node{}, 2)
	rings := []*Ring{a, b, c}
	waitMembers(t, rings, 3)
	eventually(t, 10*time.Second, func() error {
		disagree := 0
		for i := range 2000 {
			key := fmt.Sprintf("http://site/obj/%d", i)
			want, _ := a.Owner(key)
			for _, r := range rings[1:] {
				if got, _ := r.Owner(key); got.Name != want.Name {
					disagree++
				}
			}
		}
		if disagree > 0 {
			return fmt.Errorf("%d of 2000 keys have owners the members disagree on", disagree)
		}
		return nil
	})
}
