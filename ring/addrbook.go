package ring

import (
	"sort"
	"time"

	"github.com/hashicorp/memberlist"
)

// keepGone is how long SendDirect and Knock still reach a member after memberlist declared
// it dead or it left: memberlist's own GossipToTheDeadTime on a LAN. A process declared dead
// under packet loss or CPU starvation is often alive; the VIP detector must still hear it and
// be heard by it, or a live holder fences needlessly and a live holder's claim goes unheard.
const keepGone = 30 * time.Second

// addrEntry is where a member's gossip port was last seen, and since when it is out of the
// view (zero while it is in).
type addrEntry struct {
	node memberlist.Node // Name, Addr and Port only: what a datagram or a knock needs
	gone time.Time
	// failed: the member as last seen, when it went out of the view without announcing
	// its leave (StateLeaving); nil while in the view or after a leave.
	failed *Member
}

// rememberAddrLocked records n's address. r.mu is held.
func (r *Ring) rememberAddrLocked(n *memberlist.Node) {
	if r.addrs == nil {
		r.addrs = map[string]addrEntry{}
	}
	r.addrs[n.Name] = addrEntry{node: memberlist.Node{Name: n.Name, Addr: n.Addr, Port: n.Port}}
}

// forgetAddrLocked marks name out of the view as of now and drops the entries out of it for
// longer than keepGone. Pruning runs only here, when some member leaves, so the book holds
// every member in the view plus those that left since the last departure more than keepGone
// after theirs: bounded by the names the cluster ever had, and goneMember never returns an
// entry older than keepGone. r.mu is held.
func (r *Ring) forgetAddrLocked(name string, now time.Time, failed *Member) {
	if e, ok := r.addrs[name]; ok && e.gone.IsZero() {
		e.gone, e.failed = now, failed
		r.addrs[name] = e
	}
	for k, e := range r.addrs {
		if !e.gone.IsZero() && now.Sub(e.gone) > keepGone {
			delete(r.addrs, k)
		}
	}
}

// addressOf returns a copy of the last address of the member called name: one in the view,
// or one out of it for at most keepGone. The copy is why the book exists: memberlist's
// Members() hands out pointers to records its packet handler rewrites (Addr and Port on every
// alive message with a newer incarnation) under a lock it does not export, so reading them
// outside its callbacks is a data race. The book copies them inside NotifyJoin/NotifyUpdate,
// which memberlist calls with that lock held.
func (r *Ring) addressOf(name string, now time.Time) (*memberlist.Node, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.addrs[name]
	if !ok || (!e.gone.IsZero() && now.Sub(e.gone) > keepGone) {
		return nil, false
	}
	n := e.node
	return &n, true
}

// viewAddresses lists the gossip addresses of the other members in the view, from the book
// (see addressOf), sorted for a stable join order.
func (r *Ring) viewAddresses() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for name, e := range r.addrs {
		if e.gone.IsZero() && name != r.selfName {
			out = append(out, e.node.Address())
		}
	}
	sort.Strings(out)
	return out
}

// Failed lists the members that went out of the view in the last keepGone without having
// announced their leave (memberlist declared them dead: a crash, a freeze, a partition, or a
// process too starved to answer its probes), as last seen; a member back in the view is not
// listed. A member last seen draining is listed too: it did not finish its drain.
func (r *Ring) Failed() []Member {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Member
	for _, e := range r.addrs {
		if e.failed != nil && !e.gone.IsZero() && now.Sub(e.gone) <= keepGone {
			out = append(out, *e.failed)
		}
	}
	return out
}
