package ring_test

import (
	"fmt"

	"github.com/shoal-cdn/shoal/conf"
	"github.com/shoal-cdn/shoal/ring"
)

// A node without cluster.bind runs alone and owns every key; with bind and join set, the same
// calls answer for the whole cluster.
func Example() {
	r, err := ring.New(conf.Cluster{}, ring.Member{Name: "edge-1", PeerAddr: "127.0.0.1:8081"}, ring.Options{})
	if err != nil {
		panic(err)
	}
	if err := r.Start(); err != nil {
		panic(err)
	}
	defer r.Shutdown()

	owner, self := r.Owner("http://www.example.com/logo.png")
	fmt.Println(owner.Name, self, len(r.Members()))
	// Output: edge-1 true 1
}
