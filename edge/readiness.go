package edge

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/shoal-cdn/shoal/ring"
)

// readinessInterval is how often the node re-judges its own readiness.
const readinessInterval = time.Second

// overloadShare of limits.max_conns open at once makes a node not ready: new clients are
// better sent to a peer (DNS and VIPs follow the ring state).
const overloadShare = 0.9

// watchReadiness keeps the node's ring state and /readyz true to what it can serve: not
// ready while it is near its connection limit, or while it sees more origin pools down than
// most of its peers do (see originsWorse). Peers then stop handing it DNS answers and VIPs;
// it still serves what reaches it.
func (n *Node) watchReadiness(stop <-chan struct{}) {
	t := time.NewTicker(readinessInterval)
	defer t.Stop()
	var j originJudge
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			n.judgeReadiness(&j)
			if h := testHookReadinessJudged.Load(); h != nil {
				(*h)(n)
			}
		}
	}
}

// testHookReadinessJudged, when set, is called by each node's readiness loop after every tick
// it judged, on that loop's goroutine: tests wait for whole ticks instead of sleeping past
// them. Atomic: Shutdown does not wait for the loop to return, so a test's cleanup may reset
// it while a stopped node's loop still reads it.
var testHookReadinessJudged atomic.Pointer[func(n *Node)]

// originGraceBase is part of how long a node must see more pools down than most peers before
// it steps back; the longest active check interval of its pools is added (see originJudge).
const originGraceBase = 3 * time.Second

// originJudge remembers since when the node's view of the origins has been worse than its
// peers'. Nodes probe on their own schedules and gossip their verdicts a moment later, so in a
// shared outage the first node to see it is briefly alone: it steps back only if that lasts
// longer than a peer needs to see the same (a check interval, a readiness tick and gossip).
// Owned by the watchReadiness goroutine.
type originJudge struct {
	worseSince time.Time
}

func (n *Node) judgeReadiness(j *originJudge) {
	reason := n.notReadyReason(j)
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

// notReadyReason says why the node should not take new clients, or "" when it should. It also
// gossips how many origin pools the node sees down, for its peers' judgement.
func (n *Node) notReadyReason(j *originJudge) string {
	rt := n.rt.Load()
	down := 0
	grace := originGraceBase
	for name, p := range rt.pools {
		if !p.Healthy() {
			down++
		}
		if pc := rt.cfg.Origins[name]; pc != nil && pc.Health.Path != "" {
			grace = max(grace, originGraceBase+pc.Health.Interval.D())
		}
	}
	if n.ring.Self().OriginsDown != down {
		if err := n.ring.SetOriginsDown(down); err != nil {
			n.log.Warn("could not announce origin pools down", "err", err)
		}
	}
	reason := originsWorse(down, n.ring.Self().Name, n.ring.Members())
	now := time.Now() // real time: peers' checks and gossip run on it
	switch {
	case reason == "":
		j.worseSince = time.Time{}
	case j.worseSince.IsZero():
		j.worseSince = now
		reason = ""
	case now.Sub(j.worseSince) < grace:
		reason = ""
	}
	if reason != "" {
		return reason
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

// originsWorse says why a node that sees down origin pools down should step back, or "": only
// when most of its peers that report their view see fewer pools down. An origin outage every
// node shares is no reason to move VIPs or DNS answers (another node would serve no better),
// and a lone node has nobody to compare with; a node that alone cannot reach an origin (its
// route, its firewall, its resolver) hands its clients to peers that can.
func originsWorse(down int, self string, members []ring.Member) string {
	if down == 0 {
		return ""
	}
	known, better := 0, 0
	for _, m := range members {
		if m.Name == self || m.OriginsDown < 0 {
			continue
		}
		known++
		if m.OriginsDown < down {
			better++
		}
	}
	if 2*better <= known {
		return ""
	}
	return fmt.Sprintf("sees %d origin pools down; %d of %d peers see fewer", down, better, known)
}

func (n *Node) currentServers() []*serverGen {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]*serverGen(nil), n.servers...)
}
