package edge

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The admin port of a node shutting down answers or refuses every connection; it never
// accepts one it will not serve. Before, Shutdown stopped the admin server generations
// (which waits for the requests they are serving, here a purge whose body is still coming)
// before it closed the socket, and the feed went on accepting connections no generation
// would take: a health check (/readyz, /healthz) or a scrape sat unanswered until then,
// and a load balancer's check timed out instead of failing at once. The neighbour of
// TestCluster_drainingNodeRefusesPeerConnectionsItWillNotServe.
func TestNode_shuttingDownAdminPortRefusesConnectionsItWillNotServe(t *testing.T) {
	o := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {})
	nodes, token := purgeCluster(t, 1, o.URL)
	n := nodes[0]
	admin := n.AdminAddr()

	// An admin request the node is serving when it shuts down: its body never comes (the
	// admin server waits limits.read_timeout, 30 s, for it). Its 100 Continue says the
	// handler is reading it.
	held, err := net.Dial("tcp", admin)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	held.SetDeadline(time.Now().Add(20 * time.Second))
	fmt.Fprintf(held, "POST /purge HTTP/1.1\r\nHost: admin\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n", token)
	if line, err := bufio.NewReader(held).ReadString('\n'); err != nil || !strings.Contains(line, " 100 ") {
		t.Fatalf("the held purge: %q, %v; want 100 Continue", line, err)
	}
	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		shut <- n.Shutdown(ctx)
	}()

	answeredUntilRefused(t, "admin", func(int) error {
		_, err := newConnGET(admin, "/healthz", "", 10*time.Second)
		return err
	})
	held.Close() // the held request ends; Shutdown may finish
	select {
	case <-shut:
	case <-time.After(20 * time.Second):
		t.Error("Shutdown did not return after the held admin request ended")
	}
}
