package edge

import (
	"fmt"
	"testing"

	"github.com/shoal-cdn/shoal/ring"
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
