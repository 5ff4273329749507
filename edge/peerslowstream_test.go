package edge

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

// TestCluster_slowStreamHeadCrossesThePeerHopAtOnce: a miss forwarded to its owner, whose
// origin sends its head and holds its body, reaches the client through the forwarding node
// with its head at once, over HTTP/1.1 and HTTP/2 (h2c), with no body byte or 100 sent with
// the head: the owner flushes its head (BodyPending), and the forwarding node flushes the
// head it relays when the owner's body had not all arrived with it (origin.RoundTrip's
// pending). Failed before: the HTTP/1.1 client got no head while the origin held its body
// (the forwarding node's head waited in its write buffer for body bytes).
func TestCluster_slowStreamHeadCrossesThePeerHopAtOnce(t *testing.T) {
	o := testenv.StartBadOrigin(t)
	nodes := startClusterEdited(t, 2, o.URL, "", func(yaml string) string {
		return strings.Replace(yaml, `peer: "127.0.0.1:0"`, `peer: "127.0.0.1:0", h2c: "127.0.0.1:0"`, 1)
	})
	body := []byte(strings.Repeat("s", 64<<10))
	h2c := h2cClient()
	for _, lead := range []int{0, 100} {
		for _, client := range []string{"HTTP/1.1", "HTTP/2"} {
			path := pathOwnedBy(t, nodes, nodes[0], fmt.Sprintf("/slow-peer-%d-%s", lead, client[5:]))
			_, via := viaNonOwner(t, nodes, path)
			gate := make(chan struct{})
			o.Script(path, testenv.Script{Header: testenv.Fields("Cache-Control", "max-age=60"), Body: body, Gate: gate, Lead: lead})
			c, url := http.DefaultClient, "http://"+via.HTTPAddr()+path
			if client == "HTTP/2" {
				c, url = h2c, "http://"+via.H2CAddr()+path
			}
			getWhileHeld(t, c, url, "www.example.com", gate, len(body), path+" "+client+" through "+via.name)
			for _, n := range nodes {
				n.settleFills()
			}
		}
	}
}
