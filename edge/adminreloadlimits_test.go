package edge

import (
	"net/http"
	"testing"
	"time"
)

// The admin listener kept the limits it started with: a reload to a shorter read_timeout or
// idle_timeout left admin connections their old time (20 s here), where the client and peer
// ports follow reloads. After the reload a new admin connection left idle, or sending its
// body a byte at a time, is closed after about the reloaded 300ms; a reload back still serves.
func TestNode_adminListenerFollowsReloadedLimits(t *testing.T) {
	const long, short = "limits: {read_timeout: 20s, idle_timeout: 20s}\n", "limits: {read_timeout: 300ms, idle_timeout: 300ms}\n"
	n := startNode(t, long+oneRoute(true, "http://127.0.0.1:1"), Options{})
	if err := reloadConfig(t, n, short+oneRoute(true, "http://127.0.0.1:1")); err != nil {
		t.Fatal(err)
	}
	adminSlowClientsAreClosed(t, n.AdminAddr(), 8, 50*time.Millisecond, 5*time.Second)
	if err := reloadConfig(t, n, long+oneRoute(true, "http://127.0.0.1:1")); err != nil {
		t.Fatal(err)
	}
	// A new connection, not one pooled by another test's client (the reload is what is tested).
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	res, err := c.Get("http://" + n.AdminAddr() + "/healthz")
	if err != nil {
		t.Fatalf("admin after a second reload: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("admin after a second reload: %d", res.StatusCode)
	}
}
