package edge

import (
	"bufio"
	"fmt"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/internal/testenv"
	"github.com/shoal-cdn/shoal/ring"
)

// A popular object's forward is read whole before the client's first byte (the hot copy,
// hot_local). When the owner's body is cut short there, nothing has reached the client yet:
// it must get a response, not a cut. Before, the node relayed the cut as a cut: a 200 head,
// what had arrived and an unexpected EOF here, and a bare EOF when the cut came before any
// body byte (fasthttp closes the connection with the head still in its write buffer): the
// cold-object cluster test's 2 EOFs of 600 while memberlist flapped the owner, whose
// forwards prune cut.
//   - The owner closed mid-body: it answered, so it may be filling; this request's origin
//     failure, a clean 502, as forwardWith's contract says of a failure after the first byte.
//   - Not asserted: the ring dropping the owner mid-body. prune closes only forwards still
//     awaiting their first byte (peerConn.awaiting), so one whose head arrived runs to the
//     peer timeout (504): a case here that expected 200 passed only when prune won the race
//     with the head, and failed in CI when it did not.
func TestCluster_hotCopyCutByTheOwnerGetsAResponse(t *testing.T) {
	for _, tc := range []struct {
		name   string
		pruned bool // the ring drops the owner mid-body; else the owner closes
		status int
	}{
		{"owner closed mid-body", false, 502},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := testenv.StartBadOrigin(t)
			nodes := startCluster(t, 3, o.URL)
			path := "/hot-cut.css"
			o.Script(path, whole)
			owner, via := viaNonOwner(t, nodes, path)
			// The owner's peer port answers the first forward whole (the key seen once), and
			// cuts the second, a hot candidate, after its head and 100 bytes.
			midBody := make(chan struct{}, 1)
			var asked atomic.Int32
			replacePeerPort(t, owner, func(c net.Conn) {
				r := bufio.NewReader(c)
				for {
					for line, err := r.ReadString('\n'); line != "\r\n"; line, err = r.ReadString('\n') {
						if err != nil {
							return
						}
					}
					body := whole.Body
					if asked.Add(1) > 1 {
						body = body[:100]
					}
					fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nCache-Control: max-age=60\r\nContent-Length: %d\r\n\r\n%s", len(whole.Body), body)
					if len(body) == len(whole.Body) {
						continue
					}
					if !tc.pruned {
						c.Close()
						return
					}
					midBody <- struct{}{} // held open: prune cuts it on the forwarding side
					return
				}
			})
			if r := strictGet(t, via.HTTPAddr(), path); r.err != nil || r.status != 200 {
				t.Fatalf("first forward: %d, %v", r.status, r.err)
			}
			if tc.pruned {
				go func() {
					select {
					case <-midBody:
					case <-time.After(10 * time.Second):
						return
					}
					var rest []ring.Member
					for _, m := range via.Ring().Members() {
						if m.Name != owner.name {
							rest = append(rest, m)
						}
					}
					ownerMember := ring.Member{Name: owner.name, PeerAddr: owner.peerLn.Addr().String()}
					via.peers.prune(rest, []ring.Member{ownerMember})
				}()
			}
			r := strictGet(t, via.HTTPAddr(), path)
			if r.err != nil || r.status != tc.status || (tc.status == 200 && r.body != string(whole.Body)) {
				t.Errorf("second (hot) forward through %s, owner %s: status %d, %d bytes, err %v, Cache-Status %q; want %d whole",
					via.name, owner.name, r.status, len(r.body), r.err, r.header.Get("Cache-Status"), tc.status)
			}
		})
	}
}
