package edge

import (
	"time"

	"github.com/shoal-cdn/shoal/ring"
)

// readinessInterval is how often the node re-judges its own readiness.
const readinessInterval = time.Second

// overloadShare of limits.max_conns open at once makes a node not ready: new clients are
// better sent to a peer (DNS and VIPs follow the ring state).
const overloadShare = 0.9

// watchReadiness keeps the node's ring state and /readyz true to what it can serve: not
// ready while every origin pool is down or the listener is near its connection limit.
// Peers then stop handing it DNS answers and VIPs; it still serves what reaches it.
func (n *Node) watchReadiness(stop <-chan struct{}) {
	t := time.NewTicker(readinessInterval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			n.judgeReadiness()
		}
	}
}

func (n *Node) judgeReadiness() {
	reason := n.notReadyReason()
	// n.mu is held across SetState (which may wait up to a second for gossip to confirm):
	// released, a late "alive" could overwrite the "draining" Shutdown announces under it.
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.stopped {
		return
	}
	ready := reason == ""
	if ready == n.ready.Load() {
		return
	}
	n.ready.Store(ready)
	state := ring.StateAlive
	if !ready {
		state = ring.StateNotReady
		n.log.Warn("node not ready", "reason", reason)
	} else {
		n.log.Info("node ready again")
	}
	if err := n.ring.SetState(state); err != nil {
		n.log.Warn("could not announce readiness", "err", err)
	}
}

// notReadyReason says why the node should not take new clients, or "" when it should.
func (n *Node) notReadyReason() string {
	rt := n.rt.Load()
	if len(rt.pools) > 0 {
		up := false
		for _, p := range rt.pools {
			up = up || p.Healthy()
		}
		if !up {
			return "every origin pool is down"
		}
	}
	if limit := rt.cfg.Limits.MaxConns; limit > 0 {
		open := 0
		for _, g := range n.currentServers() {
			open += int(g.srv.GetOpenConnectionsCount())
		}
		if float64(open) >= overloadShare*float64(limit) {
			return "overloaded: near limits.max_conns"
		}
	}
	return ""
}

func (n *Node) currentServers() []*serverGen {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]*serverGen(nil), n.servers...)
}
