package edge

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

// An owner still alive in the ring whose peer port accepts connections and answers nothing
// (a hung handler, a saturated process) held a forward for cache.fill_timeout and then
// answered 504. With cluster.forward_timeout the forward ends when no byte came by then and
// the next owner serves it, as nginx's proxy_next_upstream timeout: 200, one origin fetch.
func TestCluster_silentOwnerIsPassedOverAfterForwardTimeout(t *testing.T) {
	o := testenv.StartBadOrigin(t)
	nodes := startClusterWith(t, 3, o.URL, ", forward_timeout: 1s")
	path := "/silent-owner.css"
	o.Script(path, whole)
	owner, via := viaNonOwner(t, nodes, path)
	addr := owner.peerLn.Addr().String()
	owner.peerLn.Close()
	silent, err := net.Listen("tcp", addr) // accepts, reads nothing, answers nothing
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { silent.Close() })
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	r := strictGet(t, via.HTTPAddr(), path)
	if r.err != nil || r.status != 200 || r.body != string(whole.Body) {
		t.Fatalf("through %s with owner %s silent: %d %q, err %v; want 200 with the body", via.name, owner.name, r.status, r.body, r.err)
	}
	if c := o.Count(path); c != 1 {
		t.Errorf("origin asked %d times, want 1", c)
	}
}

// The owner of a miss whose origin answers later than cluster.forward_timeout (but within
// cache.fill_timeout) says 102 Processing as it starts to wait (its fill; in its adoption
// window, its probe of the runner-up first), so the forwarding node waits for it rather than
// passing it over and fetching the object a second time; the client sees no interim.
func TestCluster_slowOriginBehindTheOwnerIsNotPassedOver(t *testing.T) {
	o := testenv.StartBadOrigin(t)
	nodes := startClusterWith(t, 3, o.URL, ", forward_timeout: 1s")
	for _, adopting := range []bool{true, false} {
		path := fmt.Sprintf("/slow-origin-%v.css", adopting)
		s := whole
		s.Delay = 2500 * time.Millisecond
		o.Script(path, s)
		owner, via := viaNonOwner(t, nodes, path)
		if !adopting {
			long := time.Now().Add(-time.Hour)
			owner.started.Store(&long) // past its adoption window: the owner fills at once
		}
		got := responses(t, via.HTTPAddr(), "GET "+path+" HTTP/1.1\r\nHost: www.example.com\r\n\r\n")
		last := got[len(got)-1]
		if len(got) != 1 || last.err != nil || last.status != 200 || last.body != string(whole.Body) {
			t.Fatalf("%s through %s (owner %s): %d responses, final %d %q err %v; want one 200 with the body", path, via.name, owner.name, len(got), last.status, last.body, last.err)
		}
		if c := o.Count(path); c != 1 {
			t.Errorf("%s: origin asked %d times, want 1", path, c)
		}
	}
}
