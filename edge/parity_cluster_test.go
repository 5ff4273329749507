package edge

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

// TestParity_forwardedAnswersOnEveryProtocol: a request that lands on a node that does not
// own its key is answered by the owner over the peer port (forward.go), and that answer
// reaches an HTTP/2 client as it reaches an HTTP/1.1 one. Each object is warmed once, then
// asked for over HTTP/1.1 and h2c at both nodes of a two-node cluster (so one of them
// forwards): a hit, a HEAD, a 304, a range, a 412, the HEAD of a pass and of a miss of its
// own.
func TestParity_forwardedAnswersOnEveryProtocol(t *testing.T) {
	o := testenv.StartBadOrigin(t)
	nodes := startClusterEdited(t, 2, o.URL, "", func(yaml string) string {
		yaml = strings.Replace(yaml, `admin: "127.0.0.1:0"`, `admin: "127.0.0.1:0", h2c: "127.0.0.1:0"`, 1)
		yaml = strings.Replace(yaml, "hot_local: true", "hot_local: false", 1)
		return strings.Replace(yaml, "routes: [", "routes: [{match: {path_prefix: /dyn/}, origin: o, cache: false}, ", 1)
	})
	obj := testenv.Script{Header: testenv.Fields("Cache-Control", "max-age=600", "ETag", `"v1"`, "Content-Type", "text/plain",
		"Set-Cookie", "a=1", "Set-Cookie", "b=2", "Link", "</a>", "Link", "</b>"), Body: []byte("0123456789abcdefghij")}
	o.Handle("", func(testenv.RawRequest, int) testenv.Script { return obj })
	steps := []parityStep{
		{name: "hit", method: "GET"}, {name: "HEAD hit", method: "HEAD"},
		{name: "304", method: "GET", header: []string{"If-None-Match", `"v1"`}},
		{name: "412", method: "GET", header: []string{"If-Match", `"v2"`}},
		{name: "range", method: "GET", header: []string{"Range", "bytes=3-6"}},
	}
	for i, n := range nodes {
		protos := []wireProto{{name: "HTTP/1.1", addr: n.HTTPAddr()}, {name: "h2c", addr: n.H2CAddr(), h2: true}}
		for k := range 4 {
			path := fmt.Sprintf("/obj/%d/%d", i, k)
			protos[0].ask(t, "GET", path) // the miss: the object is then on its owner
			for _, n := range nodes {
				n.settleFills()
			}
			for _, step := range steps {
				compareOn(t, protos, fmt.Sprintf("node-%d %s", i+1, path), step, func(p wireProto) string { return path }, nil)
			}
			// A HEAD miss per protocol, each on a path of its own that the other node owns.
			var misses []string
			for j := 0; len(misses) < len(protos); j++ {
				miss := fmt.Sprintf("/headmiss/%d/%d/%d", i, k, j)
				if _, self := n.Ring().Owner(cacheKey("http", "www.example.test", miss, "")); !self {
					misses = append(misses, miss)
				}
			}
			forwarded := compareOn(t, protos, fmt.Sprintf("node-%d", i+1), parityStep{name: "forwarded HEAD miss", method: "HEAD"},
				func(p wireProto) string {
					return misses[slices.IndexFunc(protos, func(q wireProto) bool { return q.name == p.name })]
				}, nil)
			if via := forwarded[0].values("via"); len(via) != 1 || !strings.Contains(via[0], ",") {
				t.Fatalf("node-%d: the HEAD miss was not forwarded (Via %q): the test keys differently from the node", i+1, via)
			}
			compareOn(t, protos, fmt.Sprintf("node-%d", i+1), parityStep{name: "HEAD pass", method: "HEAD"},
				func(p wireProto) string { return fmt.Sprintf("/dyn/%d/%d", i, k) }, nil)
		}
	}
}
