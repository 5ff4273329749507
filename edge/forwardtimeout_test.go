package edge

import (
	"bufio"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

// An owner still alive in the ring whose peer port accepts connections and answers nothing
// (a hung handler, a saturated process) held a forward for cache.fill_timeout and then
// answered 504. With cluster.forward_timeout the forward ends when no byte came by then and
// the node asked serves it itself, as nginx's proxy_next_upstream timeout: 200, one origin
// fetch.
func TestCluster_silentOwnerIsPassedOverAfterForwardTimeout(t *testing.T) {
	servedDespiteOwner(t, ", forward_timeout: 1s", "/silent-owner.css", func(c net.Conn) {}) // reads nothing, answers nothing
}

// servedDespiteOwner asks a non-owner for path, whose owner's peer port handle serves, and
// wants the object, fetched from the origin once.
func servedDespiteOwner(t *testing.T, clusterKeys, path string, handle func(net.Conn)) {
	t.Helper()
	o := testenv.StartBadOrigin(t)
	nodes := startClusterWith(t, 3, o.URL, clusterKeys)
	o.Script(path, whole)
	owner, via := viaNonOwner(t, nodes, path)
	replacePeerPort(t, owner, handle)
	changes := clusterRingChanges(t, nodes)
	r := strictGet(t, via.HTTPAddr(), path)
	if r.err != nil || r.status != 200 || r.body != string(whole.Body) {
		t.Fatalf("%s through %s (owner %s): %d %q, err %v; want 200 with the body", path, via.name, owner.name, r.status, r.body, r.err)
	}
	wantOneFetch(t, nodes, changes, o.Count(path), path)
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
		changes := clusterRingChanges(t, nodes)
		if !adopting {
			long := time.Now().Add(-time.Hour)
			owner.started.Store(&long) // past its adoption window: the owner fills at once
		}
		got := responses(t, via.HTTPAddr(), "GET "+path+" HTTP/1.1\r\nHost: www.example.com\r\n\r\n")
		last := got[len(got)-1]
		if len(got) != 1 || last.err != nil || last.status != 200 || last.body != string(whole.Body) {
			t.Fatalf("%s through %s (owner %s): %d responses, final %d %q err %v; want one 200 with the body", path, via.name, owner.name, len(got), last.status, last.body, last.err)
		}
		wantOneFetch(t, nodes, changes, o.Count(path), path)
	}
}

// An owner that says 102 Processing and then closes the connection (killed as it waits for
// its origin, or its forward cut by prune) sent no answer: the forward is passed over and
// served here, as one closed before any byte is. It was a 502 ("peer failed"), the 102
// taken for the start of the answer.
func TestCluster_ownerClosingAfterItsProcessingIsPassedOver(t *testing.T) {
	servedDespiteOwner(t, "", "/processing-then-closed.css", func(c net.Conn) {
		r := bufio.NewReader(c)
		for line, err := r.ReadString('\n'); err == nil && line != "\r\n"; line, err = r.ReadString('\n') {
		}
		c.Write([]byte("HTTP/1.1 102 Processing\r\n\r\n"))
		c.Close()
	})
}

// replacePeerPort closes owner's peer listener and serves its address with handle, one
// goroutine per connection; connections handle leaves open close at cleanup.
func replacePeerPort(t *testing.T, owner *Node, handle func(net.Conn)) {
	t.Helper()
	addr := owner.peerLn.Addr().String()
	owner.peerLn.Close()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var held []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
			go handle(c)
		}
	}()
}
