package edge

import (
	"fmt"
	"net/netip"
	"testing"

	"github.com/shoal-cdn/shoal/ring"
	"github.com/shoal-cdn/shoal/ring/vip"
)

// DNS answers each VIP on the member holding it when VIPs are configured, else each
// member's public address; health follows the ring state.
func TestEdgesFor_vipsElsePublicAddresses(t *testing.T) {
	members := []ring.Member{
		{Name: "a", Region: "eu", PublicAddr: "192.0.2.1", State: ring.StateAlive},
		{Name: "b", Region: "eu", PublicAddr: "192.0.2.2", State: ring.StateAlive},
		{Name: "c", Region: "us", PublicAddr: "192.0.2.3", State: ring.StateDraining},
	}
	holders := map[string]string{"192.0.2.100/24": "b", "192.0.2.101/24": "b", "192.0.2.102/24": ""}
	holder := func(v string) string { return holders[v] }
	cases := []struct {
		name string
		vips []string
		want string
	}{
		{"public addresses", nil, "a:[192.0.2.1]:true b:[192.0.2.2]:true c:[192.0.2.3]:false"},
		{"VIPs on their holder only", []string{"192.0.2.100/24", "192.0.2.101/24", "192.0.2.102/24"}, "b:[192.0.2.100 192.0.2.101]:true"},
	}
	for _, c := range cases {
		got := ""
		for _, e := range edgesFor(members, c.vips, holder) {
			if got != "" {
				got += " "
			}
			got += fmt.Sprintf("%s:%v:%v", e.Name, e.Addrs, e.Healthy)
		}
		if got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}

// DNS names the holder the VIP managers pick, in the case where a rule of its own would
// differ: no member ready, so the managers keep the VIP on a notready member rather than
// leave it unanswered, and DNS must answer it there (it used to answer no one).
func TestVIPHolders_matchTheManagersWhenNoMemberIsReady(t *testing.T) {
	vips := []string{"192.0.2.100/24"}
	members := []ring.Member{
		{Name: "a", State: ring.StateNotReady, VIPs: vips},
		{Name: "b", State: ring.StateNotReady, VIPs: vips},
	}
	holder := vipHolders(members, vips)(vips[0])
	if holder == "" {
		t.Fatal("no holder named for a VIP the managers hold")
	}
	prefix := netip.MustParsePrefix(vips[0])
	want := vip.Holders([]netip.Prefix{prefix}, vipCandidates(members, ""), true)[prefix.Addr()]
	if holder != want {
		t.Errorf("DNS names %q, the managers hold it on %q", holder, want)
	}
	edges := edgesFor(members, vips, vipHolders(members, vips))
	if len(edges) != 1 || edges[0].Name != holder || edges[0].Healthy {
		t.Errorf("edges %+v: want the holder, answered but not healthy (GSLB then fails open)", edges)
	}
}
