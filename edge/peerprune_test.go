package edge

import (
	"bufio"
	"net"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/shoal-cdn/shoal/ring"
)

// A peer the ring drops while a forward waits on it: a frozen or dead one has the forward cut
// at once, so it can be served elsewhere, also when it was draining (killed or frozen in its
// drain: before, that forward waited for cache.fill_timeout); one that drained first and left
// (SIGTERM: Shoal's graceful leave) is finishing what it was sent, and the forward gets the
// leaver's answer. Before 5872800 both were cut: under load each such forward was fetched
// from the origin a second time, in a burst, as the leaver's keys moved.
func TestPeerClients_pruneCutsForwardsOnlyToPeersThatDidNotDrain(t *testing.T) {
	for _, tc := range []struct {
		name     string
		before   ring.State // the peer's state in the view before the one without it
		failed   bool       // the ring lists it in Failed: out of the view without its leave
		answered bool
	}{
		{"dead without draining", ring.StateAlive, true, false},
		{"left after draining", ring.StateDraining, false, true},
		{"left after announcing its leave", ring.StateLeaving, false, true},
		{"dead during its drain", ring.StateDraining, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			arrived, answer := make(chan net.Conn, 1), make(chan struct{})
			go func() {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				defer c.Close()
				r := bufio.NewReader(c)
				for line, err := r.ReadString('\n'); err == nil && line != "\r\n"; line, err = r.ReadString('\n') {
				}
				arrived <- c
				<-answer
				c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
			}()
			addr := ln.Addr().String()
			var peers peerClients
			peer := ring.Member{Name: "peer", PeerAddr: addr, State: tc.before}
			peers.prune([]ring.Member{peer}, nil)
			hc := peers.get(addr, 10*time.Second)
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			req.SetRequestURI("http://" + addr + "/obj")
			done := make(chan error, 1)
			go func() { done <- hc.DoTimeout(req, resp, 10*time.Second) }()
			select {
			case <-arrived:
			case <-time.After(10 * time.Second):
				t.Fatal("the forward never reached the peer")
			}
			var failed []ring.Member
			if tc.failed {
				failed = []ring.Member{peer}
			}
			peers.prune(nil, failed) // the view without the peer
			close(answer)
			err = <-done
			if got := err == nil && resp.StatusCode() == 200 && string(resp.Body()) == "ok"; got != tc.answered {
				t.Errorf("forward answered %v (err %v, status %d), want %v", got, err, resp.StatusCode(), tc.answered)
			}
		})
	}
}
