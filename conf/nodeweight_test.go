package conf

import (
	"errors"
	"testing"
)

// node.weight multiplies the ring points every member builds for this node (cluster.vnodes
// each); its peers refuse metadata with a weight above 65536 and list the node as not
// ready. node.weight: 100000 (a typo for 100) passed `shoal check`, and the node joined a
// cluster that gave it no keys. It is bounded as HAProxy bounds a server's weight.
func TestParse_nodeWeightBounded(t *testing.T) {
	const rest = "listen: {http: \":80\"}\norigins: {a: {servers: [{url: \"http://127.0.0.1:1\"}]}}\nroutes: [{origin: a}]\n"
	for _, w := range []string{"257", "100000"} {
		_, err := Parse([]byte(rest+"node:\n  name: e\n  weight: "+w+"\n"), "bad.yaml", "")
		var errs Errors
		if !errors.As(err, &errs) || len(errs) != 1 || errs[0].Key != "node.weight" || errs[0].Line != 6 {
			t.Errorf("node.weight %s: %v; want one node.weight error on line 6", w, err)
		}
	}
	if _, err := Parse([]byte(rest+"node:\n  name: e\n  weight: 256\n"), "good.yaml", ""); err != nil {
		t.Errorf("node.weight 256: %v", err)
	}
}
