package hashring_test

import (
	"fmt"

	"github.com/shoal-cdn/shoal/ring/hashring"
)

func Example() {
	r := hashring.New(0, []hashring.Node{{Name: "edge-1"}, {Name: "edge-2", Weight: 2}, {Name: "edge-3"}})
	owners := r.Owners("http://www.example.com/logo.png", 2)
	// The first owner serves the key; the second takes over if the first leaves.
	fmt.Println(len(owners), owners[0] == r.Owner("http://www.example.com/logo.png"), owners[0] != owners[1])
	// Output: 2 true true
}
