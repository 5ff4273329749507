package main

import (
	"testing"
)

// An owner still in the ring that answers nothing (SIGSTOP: its kernel accepts connections,
// the process reads none) held every forward for cache.fill_timeout, then 504, for as long
// as memberlist kept it (here, with probing slowed to 10 s, longer than the test). After
// cluster.forward_timeout (default 5s) without a byte the forwarding node serves the request
// itself, once: every client gets its object while the frozen owner is still a member, each
// object from the origin once, and the timeouts are counted.
func TestCluster_frozenOwnerStillInTheRingIsServedAroundAfterForwardTimeout(t *testing.T) {
	originURL, asked := countedObjectOrigin(t)
	procs := launchFrozenThird(t, originURL, "probe_interval: 10s, probe_timeout: 5s")

	askThirty(t, procs[0], "/stuck") // about a third are node-3's
	if got := metricLine(t, procs[0], "shoal_edge_cluster_members"); got != "3" {
		t.Fatalf("node-1 sees %s members: the frozen owner left the ring before its forwards were answered", got)
	}
	if got := metricLine(t, procs[0], "shoal_edge_forward_timeouts_total"); got == "0" {
		t.Errorf("shoal_edge_forward_timeouts_total %s: no forward to the frozen owner timed out", got)
	}
	fetchedOnceEach(t, asked(), 30)
}
