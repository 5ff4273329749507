package edge

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A node shutting down answers or refuses every connection to its peer port; it never
// accepts one it will not serve. Before, Shutdown stopped the peer port's server generations
// (which waits for the forwards they are serving) before it closed the socket: the feed
// kept accepting, and each connection a member opened meanwhile (a member that had not yet
// seen the drain, or whose idle connections the shutdown had just closed) sat unanswered
// until the slowest forward in flight finished. The member waited out
// cluster.forward_timeout (5 s) for each before serving the request itself, half of a
// client's 10 s timeout in TestCluster_gracefulLeaveFailsNoRequest. A refused connect is
// passed over at once (forwardWith: the next owner or this node).
func TestCluster_drainingNodeRefusesPeerConnectionsItWillNotServe(t *testing.T) {
	origin, arrived, release := startHeldOrigin(t, "/held", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		io.WriteString(w, "body of "+r.URL.Path)
	})
	defer release() // before the node stops
	// A fill_timeout past every wait here: the held forward ends when the test releases it.
	yaml := strings.Replace(clusterConfig(t, "node-1", writeSecret(t), "", origin.URL), "fill_timeout: 5s", "fill_timeout: 60s", 1)
	n := startNode(t, yaml, Options{Logger: testLogger(t)})
	peer := n.PeerAddr()
	fields := fmt.Sprintf("%s: cluster-secret-for-tests-0123456789\r\n%s: node-x\r\n", peerSecretHeader, forwardedHeader)

	// A forward the node is serving when it starts to drain: its fill waits on the origin.
	held := make(chan string, 1)
	go func() {
		status, err := newConnGET(peer, "/held", fields, 30*time.Second)
		held <- fmt.Sprint(status, err)
	}()
	select {
	case <-arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("the forwarded request never reached the origin")
	}
	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		shut <- n.Shutdown(ctx)
	}()

	// Each new connection during the drain is answered or refused, until the port refuses.
	answeredUntilRefused(t, "peer", func(i int) error {
		_, err := newConnGET(peer, fmt.Sprintf("/new/%d", i), fields, 10*time.Second)
		return err
	})

	// The forward in flight is still answered: the drain is graceful for what was sent.
	release()
	select {
	case got := <-held:
		if got != "200 <nil>" {
			t.Errorf("the forward in flight during the drain got %s, want 200", got)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the forward in flight was never answered")
	}
	select {
	case <-shut:
	case <-time.After(20 * time.Second):
		t.Error("Shutdown did not return after the last forward finished")
	}
}

// answeredUntilRefused asks (on a new connection each time: ask's error) until a connect
// is refused, for at most 20 s, and fails the test if a connection the port accepted got
// no answer and was not closed within ask's wait: one it will never serve.
func answeredUntilRefused(t *testing.T, port string, ask func(i int) error) {
	t.Helper()
	for i, deadline := 0, time.Now().Add(20*time.Second); i < 100000 && time.Now().Before(deadline); i++ {
		err := ask(i)
		if errors.Is(err, syscall.ECONNREFUSED) {
			return
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("%s port, request %d: a connection the stopping node accepted got no answer (%v)", port, i, err)
		}
	}
	t.Fatalf("the %s port still accepted connections 20 s into the shutdown", port)
}

// newConnGET sends one GET with the given header field lines on a new connection to addr and
// returns the final status (past any 1xx), or the dial error (ECONNREFUSED when the port
// is closed) or read error, the whole exchange bounded by wait.
func newConnGET(addr, path, fields string, wait time.Duration) (int, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(wait))
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: www.example.com\r\n%sConnection: close\r\n\r\n", path, fields)
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	for err == nil && resp.StatusCode < 200 { // an owner's 102 Processing, then the answer
		resp, err = http.ReadResponse(br, nil)
	}
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}
