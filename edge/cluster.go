package edge

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/shoal-cdn/shoal/cachestore/disk"
	"github.com/shoal-cdn/shoal/conf"
	"github.com/shoal-cdn/shoal/gslb"
	"github.com/shoal-cdn/shoal/purge"
	"github.com/shoal-cdn/shoal/ring"
	"github.com/shoal-cdn/shoal/ring/vip"
)

// startCluster joins the ring and starts what hangs off it: purge fan-out, the GSLB server
// and the VIP manager. A node without cluster.bind is a ring of one: it owns every key.
func (n *Node) startCluster(cfg *conf.Config) error {
	self := ring.Member{
		Name: cfg.Node.Name, Region: cfg.Node.Region, PublicAddr: cfg.Node.PublicAddr,
		PeerAddr: n.peerAdvertise(cfg), VIPs: cfg.VIP.Addresses, Weight: cfg.Node.Weight,
		State: ring.StateNotReady,
	}
	// ring names itself ("component": "ring", or "memberlist" for memberlist's lines).
	r, err := ring.New(cfg.Cluster, self, ring.Options{Logger: n.log, Registerer: n.registry,
		OnMessage: n.onClusterMessage, OnChange: n.onClusterChange, OnDirect: n.onDirectMessage})
	if err != nil {
		return fmt.Errorf("ring: %w", err)
	}
	n.ring = r
	svc, err := purge.New(cfg.Purge, purgeTarget{n.pipeline}, clusterView{n.pipeline}, purge.Options{Logger: n.log.With("component", "purge"),
		Registerer: n.registry, Secret: cfg.Cluster.Secret, AcceptSecrets: cfg.Cluster.AcceptSecrets, Broadcast: r.Broadcast, Resolve: n.purgeTargets})
	if err != nil {
		return fmt.Errorf("purge: %w", err)
	}
	n.purge = svc
	if len(cfg.VIP.Addresses) > 0 {
		expected := 1
		if cfg.Cluster.Bind != "" {
			expected = len(cfg.Cluster.Join) + 1
		}
		n.quorum = vip.NewQuorum(expected)
		opts := vip.Options{Logger: n.log.With("component", "vip"), Registerer: n.registry}
		if cfg.Cluster.Bind != "" {
			opts.Detector = vip.DetectorOptions{Transport: vip.TransportFunc(r.SendDirect), Knock: r.Knock, ClusterSize: n.quorum.Size}
		}
		m, err := vip.New(cfg.VIP, cfg.Node.Name, opts)
		if err != nil {
			return err
		}
		n.vips = m
	}
	if cfg.GSLB.Listen != "" {
		dns, err := gslb.New(cfg.GSLB, gslb.Options{Logger: n.log.With("component", "gslb"), Registerer: n.registry, Identity: cfg.Node.Name,
			UDPReaders: cfg.GSLB.UDPThreads, UDPNetpoll: cfg.GSLB.UDPNetpoll})
		if err != nil {
			return fmt.Errorf("gslb: %w", err)
		}
		if err := dns.ListenAndServe(); err != nil {
			return fmt.Errorf("gslb: %w", conf.At("gslb.listen", err))
		}
		n.dns = dns
	}
	if err := r.Start(); err != nil {
		if n.dns != nil {
			n.dns.Shutdown(context.Background())
		}
		return fmt.Errorf("ring: %w", err)
	}
	n.onClusterChange()
	return nil
}

// peerAdvertise is the address peers use for this node's peer port: the first specific host
// among listen.peer, cluster.advertise, cluster.bind and node.public_addr, with the port the
// peer listener actually bound.
func (n *Node) peerAdvertise(cfg *conf.Config) string {
	if n.peerLn == nil {
		return ""
	}
	_, port, _ := net.SplitHostPort(n.peerLn.Addr().String())
	for _, candidate := range []string{cfg.Listen.Peer, cfg.Cluster.Advertise, cfg.Cluster.Bind} {
		if host, _, err := net.SplitHostPort(candidate); err == nil && specificHost(host) {
			return net.JoinHostPort(host, port)
		}
	}
	if cfg.Node.PublicAddr != "" {
		return net.JoinHostPort(cfg.Node.PublicAddr, port)
	}
	return net.JoinHostPort("127.0.0.1", port)
}

func specificHost(host string) bool {
	if host == "" {
		return false
	}
	a, err := netip.ParseAddr(host)
	return err != nil || !a.IsUnspecified()
}

// onClusterChange runs on the ring's goroutine after every membership or metadata change:
// it republishes the DNS answer set and the VIP holders.
func (n *Node) onClusterChange() {
	r := n.ring
	if r == nil {
		return
	}
	members := r.Members()
	if n.dns != nil {
		n.dns.SetEdges(n.dnsEdges(members))
	}
	if n.vips != nil {
		n.vips.Update(vipCandidates(members, n.name), n.quorum.Observe(len(members)))
	}
	n.peers.prune(members, r.Failed())
	n.metrics.clusterMembers.Set(float64(len(members)))
	n.catchUpReturning(members)
}

// catchUpReturning pulls, from a member that comes back after being out of view (a
// partition, not a restart: a restarted node has an empty cache), the purges this node may
// have missed meanwhile. Both sides do it; applying a purge twice is harmless.
func (n *Node) catchUpReturning(members []ring.Member) {
	now := n.now()
	present := map[string]bool{}
	n.absentMu.Lock()
	defer n.absentMu.Unlock()
	if n.absentSince == nil {
		n.absentSince = map[string]time.Time{}
	}
	for _, m := range members {
		present[m.Name] = true
		since, wasAbsent := n.absentSince[m.Name]
		if !wasAbsent || m.Name == n.name || n.purge == nil {
			continue
		}
		delete(n.absentSince, m.Name)
		peer := purge.Peer{Name: m.Name, PeerAddr: m.PeerAddr}
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := n.purge.CatchUp(ctx, peer, since.Add(-catchUpSkew)); err != nil {
				n.log.Warn("purge catch-up failed", "peer", peer.Name, "err", err)
			}
		}()
	}
	for name := range n.seen {
		if !present[name] {
			if _, ok := n.absentSince[name]; !ok {
				n.absentSince[name] = now
			}
		}
	}
	n.seen = present
}

// catchUpSkew widens the catch-up window for clocks that disagree a little.
const catchUpSkew = 5 * time.Second

// dnsEdges maps members to GSLB edges: each configured VIP is answered on the member that
// holds it, chosen by the very rule the VIP managers apply (vip.Holders over vipCandidates),
// so DNS never names a node other than the one holding the address; without VIPs a node
// answers its public address.
func (n *Node) dnsEdges(members []ring.Member) []gslb.Edge {
	vips := n.rt.Load().cfg.VIP.Addresses
	return edgesFor(members, vips, vipHolders(members, vips))
}

// vipHolders names the holder of each VIP as every VIP manager computes it, for a view in
// which no node is the draining self.
func vipHolders(members []ring.Member, vips []string) func(vip string) string {
	var prefixes []netip.Prefix
	for _, v := range vips {
		if p, err := netip.ParsePrefix(v); err == nil {
			prefixes = append(prefixes, p)
		}
	}
	holders := vip.Holders(prefixes, vipCandidates(members, ""), true)
	return func(v string) string {
		p, err := netip.ParsePrefix(v)
		if err != nil {
			return ""
		}
		return holders[p.Addr()]
	}
}

// edgesFor is dnsEdges without the ring: holder names the member holding a VIP ("" none).
func edgesFor(members []ring.Member, vips []string, holder func(vip string) string) []gslb.Edge {
	vipsOf := map[string][]netip.Addr{}
	for _, v := range vips {
		if p, err := netip.ParsePrefix(v); err == nil {
			if name := holder(v); name != "" {
				vipsOf[name] = append(vipsOf[name], p.Addr())
			}
		}
	}
	var edges []gslb.Edge
	for _, m := range members {
		e := gslb.Edge{Name: m.Name, Region: m.Region, Weight: m.Weight, Healthy: m.State == ring.StateAlive}
		if len(vips) > 0 {
			e.Addrs = vipsOf[m.Name]
		} else if a, err := netip.ParseAddr(m.PublicAddr); err == nil {
			e.Addrs = []netip.Addr{a}
		}
		if len(e.Addrs) > 0 {
			edges = append(edges, e)
		}
	}
	return edges
}

// vipCandidates are the members that may hold VIPs: alive and ready. When no member is
// ready (every node sees its origins down), the alive ones stay eligible rather than
// leaving the VIPs unanswered. A node that is draining keeps its own VIPs in its own view
// until Shutdown releases them, after peers have seen the drain and taken over; dropping
// them at once left the address unanswered for the moment peers had not yet noticed.
func vipCandidates(members []ring.Member, self string) []vip.Candidate {
	pick := func(ok func(ring.Member) bool) []vip.Candidate {
		var out []vip.Candidate
		for _, m := range members {
			if !ok(m) {
				continue
			}
			c := vip.Candidate{Name: m.Name, Weight: m.Weight}
			for _, v := range m.VIPs {
				if p, err := netip.ParsePrefix(v); err == nil {
					c.Offers = append(c.Offers, p)
				}
			}
			out = append(out, c)
		}
		return out
	}
	if ready := pick(func(m ring.Member) bool {
		return m.State == ring.StateAlive || m.Name == self && m.State == ring.StateDraining
	}); len(ready) > 0 {
		return ready
	}
	return pick(func(m ring.Member) bool { return m.State == ring.StateNotReady })
}

// onDirectMessage hands the VIP manager its failure detector's datagrams. n.vips is set
// before the ring starts, so it is never written while this runs.
func (n *Node) onDirectMessage(msg []byte) {
	if n.vips != nil {
		n.vips.Receive(msg)
	}
}

func (n *Node) onClusterMessage(msg []byte) {
	if svc := n.purge; svc != nil {
		svc.HandleGossip(msg)
	}
}

// clusterView is the purge service's view of the ring: the live peers and their peer ports.
type clusterView struct{ n *pipeline }

func (c clusterView) Self() string { return c.n.name }

func (c clusterView) Peers() []purge.Peer {
	var peers []purge.Peer
	if c.n.ring == nil {
		return nil
	}
	for _, m := range c.n.ring.Members() {
		if m.Name != c.n.name && m.PeerAddr != "" {
			peers = append(peers, purge.Peer{Name: m.Name, PeerAddr: m.PeerAddr})
		}
	}
	return peers
}

// purgeTarget applies purges to the store and detaches the fills in flight, so a request that
// arrives after a purge never joins a fetch that started before it. The disk tier gets the
// purge first (see diskBan).
type purgeTarget struct{ n *pipeline }

func (p purgeTarget) PurgeURL(url string, soft bool) int {
	defer p.n.fills.ForgetAll()
	p.n.largeMark.clear(url) // the object may have been replaced by one a tier keeps (rangepass.go)
	p.n.diskBan(disk.BanURL, url, soft)
	return p.n.store.PurgeURL(url, soft)
}

func (p purgeTarget) PurgePrefix(prefix string, soft bool) int {
	defer p.n.fills.ForgetAll()
	p.n.diskBan(disk.BanPrefix, prefix, soft)
	return p.n.store.PurgePrefix(prefix, soft)
}

func (p purgeTarget) PurgeTag(tag string, soft bool) int {
	defer p.n.fills.ForgetAll()
	p.n.diskBan(disk.BanTag, tag, soft)
	return p.n.store.PurgeTag(tag, soft)
}

func (p purgeTarget) PurgeAll(soft bool) int {
	defer p.n.fills.ForgetAll()
	p.n.diskBan(disk.BanAll, "", soft)
	return p.n.store.PurgeAll(soft)
}

// DNSAddr is the GSLB server's UDP address ("" when GSLB is off).
func (n *Node) DNSAddr() string {
	if n.dns == nil {
		return ""
	}
	udp, _ := n.dns.Addr()
	if udp == nil {
		return ""
	}
	return udp.String()
}
