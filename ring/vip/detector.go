package vip

import (
	"errors"
	"log/slog"
	"maps"
	"net/netip"
	"slices"
	"sync"
	"syscall"
	"time"
)

// Transport carries the fast failure detector's datagrams to other members by name. Send is
// best effort (a lost datagram is expected, never retried) and must not block beyond one
// socket write; it is called concurrently. In Shoal it is the ring's SendDirect: one
// encrypted UDP datagram on the gossip port.
type Transport interface {
	Send(to string, msg []byte) error
}

// TransportFunc adapts a function to Transport.
type TransportFunc func(to string, msg []byte) error

// Send calls f(to, msg).
func (f TransportFunc) Send(to string, msg []byte) error { return f(to, msg) }

// ErrRefused is what a Knock returns when the member's kernel refused the connection: the
// port is closed, so the process that listened on it is gone.
var ErrRefused = errors.New("vip: connection refused")

// Defaults of the zero DetectorOptions timings.
const (
	DefaultHeartbeat    = 50 * time.Millisecond
	DefaultSuspectAfter = 120 * time.Millisecond
	DefaultSilentAfter  = 600 * time.Millisecond
	DefaultFenceAfter   = 70 * time.Millisecond
	DefaultProbeEvery   = 5 * time.Millisecond
	DefaultProbeWindow  = 50 * time.Millisecond
	DefaultFenceWindow  = 200 * time.Millisecond
	DefaultHoldDown     = 150 * time.Millisecond
	knockTimeout        = 100 * time.Millisecond
	// maxWitnessProbes bounds the probes run for others at once: a failure causes one per
	// VIP successor of the failed node.
	maxWitnessProbes = 64
)

// DetectorOptions switch on and tune the fast failure detector for VIP holders, which moves
// a VIP within a few hundred milliseconds of its holder's process dying instead of waiting
// for the membership view (about a second): see detector.
//
// The timings must keep FenceAfter + FenceWindow + 2×ProbeEvery below
// SilentAfter - Heartbeat: a holder cut off at time t heard its successor at most at t and
// releases by t + FenceAfter + FenceWindow (plus a tick on either side), while its successor
// heard it at least at t - Heartbeat and counts silence as death only after SilentAfter.
// The defaults leave 270 ms (280 ms against 550 ms).
type DetectorOptions struct {
	// Transport, when set, switches the detector on. Nil leaves VIPs to the view alone.
	Transport Transport
	// ClusterSize is the number of members a majority is counted against (Quorum.Size);
	// nil means the number of eligible members in the latest view.
	ClusterSize func() int
	// Heartbeat is how often a holder pings the member next in line for each of its VIPs
	// (one datagram per distinct member, whatever the number of VIPs). 0 means 50 ms.
	Heartbeat time.Duration
	// Knock asks the kernel of the member called name whether its process still exists,
	// within timeout: nil when the host accepted a connection to the process's port (it
	// exists, however starved of CPU), ErrRefused when the host refused it (the process
	// is gone), another error when nothing answered (host down, network cut, loss). It is
	// called on its own goroutine. Nil knocks nobody: only SilentAfter of silence counts.
	Knock func(name string, timeout time.Duration) error
	// SuspectAfter is how long the member next in line waits without a word from the holder
	// before asking the others to confirm. 0 means 120 ms.
	SuspectAfter time.Duration
	// SilentAfter is how long a holder must have been silent before a majority that
	// neither hears it nor gets any answer from its host (no refusal) may take its VIPs: a
	// host that died or was cut off. A refused knock needs no such wait. 0 means 600 ms.
	SilentAfter time.Duration
	// FenceAfter is how long a holder waits without an answer from a member next in line
	// before checking that it still reaches a majority (it releases everything if not).
	// 0 means 70 ms.
	FenceAfter time.Duration
	// ProbeEvery is the ping period of confirmations and checks, ProbeWindow how long they
	// ping before concluding. 0 means 5 ms and 50 ms: ten pings, so that with 20% of
	// datagrams lost each way a reachable member stays unanswered once in 10^4 checks.
	ProbeEvery, ProbeWindow time.Duration
	// FenceWindow is how long a holder's check pings before it concludes that no majority
	// answers and releases everything: long, since a holder that fences needlessly leaves
	// its VIPs unheld. 0 means 200 ms.
	FenceWindow time.Duration
	// HoldDown is how long a holder that regained a majority waits before holding again,
	// so the member that took its VIPs over hears from it first. It is no bound on that
	// member's release (its view may take a second or more to change): each VIP is added
	// only once no peer says it holds it. 0 means 150 ms.
	HoldDown time.Duration
}

func (o DetectorOptions) withDefaults() DetectorOptions {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.Heartbeat, DefaultHeartbeat)
	def(&o.SuspectAfter, DefaultSuspectAfter)
	def(&o.SilentAfter, DefaultSilentAfter)
	def(&o.FenceAfter, DefaultFenceAfter)
	def(&o.ProbeEvery, DefaultProbeEvery)
	def(&o.ProbeWindow, DefaultProbeWindow)
	def(&o.FenceWindow, DefaultFenceWindow)
	def(&o.HoldDown, DefaultHoldDown)
	return o
}

// plan is what the detector watches, recomputed by the Manager from every view it applies.
type plan struct {
	heartbeatTo []string // the members next in line for the VIPs this node holds by the view
	watch       []string // the holders of the VIPs this node is next in line for
	peers       []string // every other eligible member: witnesses and the reach check
	size        int      // members a majority is counted against
}

// confirm is a running confirmation that a silent holder is gone.
type confirm struct {
	id       uint64
	start    time.Time
	ticks    int             // ticks that pinged: a starved process concludes later, not sooner
	knock    knockResult     // our own knock
	verdicts map[string]byte // what each witness found
}

// witnessProbe is a probe run for another member: ping and knock target, then answer the
// requester.
type witnessProbe struct {
	requester, target string
	id                uint64
	start             time.Time
	ticks             int
	knock             knockResult
}

// knockResult is a Knock's outcome, written by the knocking goroutine under mu.
type knockResult byte

const (
	knockPending knockResult = iota
	knockAccepted
	knockRefused
	knockUnanswered
)

// detector is the fast failure detector for VIP holders. It runs beside memberlist's
// general failure detection (about 1 s on a LAN) and only ever decides about VIP holders:
//
//   - A holder pings the member next in line for each of its VIPs (its successor: the
//     rendezvous winner once the holder is removed) every Heartbeat; the successor answers.
//   - A successor that hears nothing from a holder for SuspectAfter knocks on the holder's
//     host (Knock: a TCP connection to its gossip port), pings it every ProbeEvery, and
//     asks every other eligible member (the witnesses) to do the same for ProbeWindow. Any
//     sign of the holder (a pong, a message, a host that accepts the knock) cancels: a
//     process starved of CPU still has its port open, so it keeps its VIPs. The holder is
//     marked down only when the successor plus the witnesses that found it gone are a
//     strict majority of the cluster size, where gone means refused (the process died:
//     its host answers at once that the port is closed) or, after SilentAfter of silence,
//     unanswered (the host died or is cut off). The Manager then computes holders without
//     it, which hands exactly its VIPs to their successors. So the quorum rule holds: a
//     successor on the minority side of a partition never takes over.
//   - A holder that hears nothing from a successor for FenceAfter checks, the same way,
//     that it still reaches a majority; if not it is fenced and holds nothing, long
//     before its successor may count its silence (SilentAfter): a holder cut off releases
//     first, so there are never two holders. Checks count ticks, so a holder starved of
//     CPU concludes later, never sooner.
//   - A down mark ends when the holder is heard from again (a healed partition, a
//     restarted process) or leaves the view. A fenced holder keeps pinging, and holds
//     again only HoldDown after a check found a majority (messages from it, not the grace
//     a new duty gives a member), and then adds each VIP only once no peer says it holds
//     it (claims.go): its successor may keep the VIP by its view for longer than HoldDown.
//
// Its state is guarded by mu; it calls changed (which must not block) whenever the down
// set or the fence changed.
type detector struct {
	self    string
	o       DetectorOptions
	tr      Transport
	log     *slog.Logger
	metrics *metrics
	changed func()

	mu    sync.Mutex
	plan  plan
	heard map[string]time.Time // the last message from each member, or the grace a new duty gives it
	msg   map[string]time.Time // the last message from each member: the only proof it is there
	quiet map[string]time.Time // a witness found this holder alive: no suspicion before
	// silentTicks counts, per watched holder, this node's ticks since it last heard from
	// it: silence counts only as long as this node was awake to hear (see SilentAfter).
	silentTicks map[string]int
	down        map[string]bool     // holders a majority confirmed unreachable
	confirms    map[string]*confirm // by holder
	witness     []*witnessProbe
	check       time.Time // start of the running reach check; zero when none
	checkTick   int       // ticks the running check has pinged
	lastTick    time.Time
	recheckAt   time.Time // while fenced, the next check starts no earlier
	fenced      bool
	holdUntil   time.Time // after a fence, hold nothing before this
	nextBeat    time.Time
	// nextID numbers pings, confirmations and the claims of pongs. It starts at the start
	// time in nanoseconds, so a restarted process numbers above everything its previous
	// run sent (a few hundred a second, against 10^9 ns): a late pong to a ping of the
	// previous run, which echoes a number at most firstID, is no answer to this run's.
	nextID, firstID uint64

	// Break before make (claims.go).
	names   map[string]bool             // the eligible members of the applied view
	left    map[string]time.Time        // members out of the view since, not found gone by a majority
	leaving bool                        // Leave was called: pings and pongs say so
	holding []netip.Addr                // what this node holds, said in every ping and pong
	claims  map[string]peerClaims       // what each eligible member last said it holds
	pings   map[string]pingSeen         // the latest ping of each eligible member
	seqs    map[string]seqSeen          // the highest claims sequence number of each member
	waits   map[netip.Addr]*acquireWait // VIPs to hold, held back until no peer holds them
}

func newDetector(self string, o DetectorOptions, log *slog.Logger, met *metrics, changed func()) *detector {
	start := uint64(time.Now().UnixNano())
	return &detector{
		nextID: start, firstID: start, seqs: map[string]seqSeen{},
		self: self, o: o.withDefaults(), tr: o.Transport, log: log, metrics: met, changed: changed,
		heard: map[string]time.Time{}, msg: map[string]time.Time{}, quiet: map[string]time.Time{}, down: map[string]bool{},
		silentTicks: map[string]int{},
		confirms:    map[string]*confirm{}, names: map[string]bool{}, left: map[string]time.Time{}, claims: map[string]peerClaims{}, pings: map[string]pingSeen{},
		waits: map[netip.Addr]*acquireWait{},
	}
}

// state is what the Manager needs to compute holders: the members marked down, and whether
// this node must hold nothing (fenced, or holding down after a fence).
func (d *detector) state(now time.Time) (down map[string]bool, blocked bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return maps.Clone(d.down), d.fenced || now.Before(d.holdUntil)
}

// setPlan installs a new plan. Members newly watched or heartbeated get a full period of
// grace from now: they may not know yet that they are a holder or a successor.
func (d *detector) setPlan(p plan, eligible map[string]bool, now time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, n := range slices.Concat(p.watch, p.heartbeatTo) {
		if !slices.Contains(d.plan.watch, n) && !slices.Contains(d.plan.heartbeatTo, n) {
			d.heard[n], d.silentTicks[n] = latest(d.heard[n], now), 0
		}
	}
	for n := range d.names {
		if !eligible[n] && !d.down[n] { // it left the view alive, as far as we know: see waitingOn
			d.left[n] = now
		}
	}
	for n, at := range d.left {
		if eligible[n] || now.Sub(at) >= askLeftFor {
			delete(d.left, n)
		}
	}
	for n := range d.down {
		if !eligible[n] { // it left the view: the view now says what the mark said
			delete(d.down, n)
		}
	}
	for n := range d.confirms {
		if !slices.Contains(p.watch, n) {
			delete(d.confirms, n)
		}
	}
	for n := range d.silentTicks {
		if !slices.Contains(p.watch, n) {
			delete(d.silentTicks, n)
		}
	}
	for n, c := range d.claims {
		if !eligible[n] && now.Sub(c.at) >= d.o.SilentAfter { // out of view and long silent
			delete(d.claims, n)
		}
	}
	for n := range d.pings {
		if !eligible[n] {
			delete(d.pings, n)
		}
	}
	for n, s := range d.seqs {
		if !eligible[n] && now.Sub(s.at) >= d.o.SilentAfter { // nothing of it can be overtaken now
			delete(d.seqs, n)
		}
	}
	d.plan, d.names = p, eligible
}

func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// receive handles one datagram; it is called from the transport's goroutine.
func (d *detector) receive(b []byte, now time.Time) {
	m, err := decodeMessage(b)
	if err != nil {
		d.metrics.detectorRefused.Inc()
		return
	}
	if m.from == d.self {
		return
	}
	d.metrics.detectorReceived.WithLabelValues(kindNames[m.kind]).Inc()
	var reply *message
	notify := false
	d.mu.Lock()
	if d.overtakenLocked(m, now) {
		// A later ping or pong of its sender arrived first: what this one says (what it held,
		// that it lived) is older than what we know. It lifts no down mark and is not
		// answered. A pong still answers our ping: it was sent after our ping arrived, and
		// what we have from its sender was sent later still.
		answered := m.kind == kindPong && d.answeredLocked(m)
		d.mu.Unlock()
		d.metrics.detectorStale.Inc()
		if answered {
			d.changed()
		}
		return
	}
	d.heard[m.from], d.msg[m.from] = now, now
	if _, watched := d.silentTicks[m.from]; watched {
		d.silentTicks[m.from] = 0
	}
	if d.down[m.from] {
		// The holder we took over from is back (a healed partition or a restarted process):
		// the view decides again, so its VIPs go back to it once it holds them.
		delete(d.down, m.from)
		d.log.Info("vip: holder heard from again; it holds its VIPs again", "holder", m.from)
		notify = true
	}
	notify = d.recordClaimsLocked(m, now) || notify
	switch m.kind {
	case kindPing:
		pong := d.pongLocked(m.id, d.holding)
		reply = &pong
	case kindProbe:
		if m.target != d.self && len(d.witness) >= maxWitnessProbes {
			d.metrics.detectorRefused.Inc() // a flood, not the few confirmations a failure causes
		} else if m.target != d.self {
			w := &witnessProbe{requester: m.from, target: m.target, id: m.id, start: now}
			d.witness = append(d.witness, w)
			d.knockLocked(m.target, &w.knock)
		} else { // asked about ourselves: we are evidently alive
			reply = &message{kind: kindVerdict, id: m.id, from: d.self, target: m.target, verdict: verdictAlive}
		}
	case kindVerdict:
		if c := d.confirms[m.target]; c != nil && c.id == m.id {
			c.verdicts[m.from] = m.verdict
		}
	}
	d.mu.Unlock()
	if reply != nil {
		d.send(m.from, *reply)
	}
	if notify {
		d.changed()
	}
}

// outgoing is a datagram decided under the lock and sent after it.
type outgoing struct {
	to  string
	msg message
}

// tick runs every ProbeEvery: heartbeats, suspicions, confirmations, witness probes and the
// reach check. It reads the clock itself, under the lock: every deadline it sets (holdUntil,
// recheckAt, the start of a check) is counted from the real time, and a message received
// while it waited for the lock is not older than the check it starts.
func (d *detector) tick() {
	var out []outgoing
	notify := false
	d.mu.Lock()
	now := time.Now()
	ping := func(to string) { out = append(out, outgoing{to, d.pingLocked()}) }
	// A tick that comes late means this process was starved of CPU: what it has not heard
	// may be sitting unread in its socket. Suspect nobody on such a tick (Lifeguard's idea,
	// in memberlist's awareness); confirmations and checks count ticks, so they stretch too.
	starved := !d.lastTick.IsZero() && now.Sub(d.lastTick) > 3*d.o.ProbeEvery
	d.lastTick = now

	if !now.Before(d.nextBeat) {
		d.nextBeat = now.Add(d.o.Heartbeat)
		for _, s := range d.plan.heartbeatTo {
			ping(s)
		}
	}

	// Successor side: suspect silent holders, confirm through the others.
	for _, h := range d.plan.watch {
		if d.down[h] {
			continue
		}
		d.silentTicks[h]++
		c := d.confirms[h]
		if c == nil {
			if starved || now.Sub(latest(d.heard[h], d.quiet[h])) <= d.o.SuspectAfter {
				continue
			}
			d.nextID++
			c = &confirm{id: d.nextID, start: now, verdicts: map[string]byte{}}
			d.confirms[h] = c
			d.metrics.detectorSuspicions.Inc()
			d.knockLocked(h, &c.knock)
			for _, w := range d.plan.peers {
				if w != h {
					out = append(out, outgoing{w, message{kind: kindProbe, id: c.id, from: d.self, target: h}})
				}
			}
		}
		if d.msg[h].After(c.start) || c.knock == knockAccepted || slices.Contains(slices.Collect(maps.Values(c.verdicts)), verdictAlive) {
			delete(d.confirms, h) // it is there: whatever delays it, its VIPs stay
			d.quiet[h] = now
			continue
		}
		windowDone := c.ticks >= d.probeTicks() && now.Sub(c.start) >= d.o.ProbeWindow
		// Silence counts in this node's ticks as well as time: a successor starved of CPU
		// may have the holder's heartbeats unread in its socket, and must not outrun the
		// holder's fence, which counts its ticks too.
		longSilent := now.Sub(d.heard[h]) >= d.o.SilentAfter && d.silentTicks[h] >= int(d.o.SilentAfter/d.o.ProbeEvery)
		votes, refused := 0, 0
		if c.knock == knockRefused || windowDone && longSilent {
			votes++
		}
		for _, v := range c.verdicts {
			if v == verdictRefused {
				votes++
				refused++
			} else if v == verdictSilent && longSilent {
				votes++
			}
		}
		switch {
		case 2*votes > d.plan.size && (c.knock == knockRefused || refused > 0 || windowDone):
			delete(d.confirms, h)
			delete(d.claims, h) // a majority found it gone: what it last said it held is moot
			d.down[h] = true
			notify = true
			d.metrics.detectorTakeovers.Inc()
			d.log.Warn("vip: holder gone, confirmed by a majority; taking its VIPs over",
				"holder", h, "silent", now.Sub(d.heard[h]).Round(time.Millisecond),
				"refused", c.knock == knockRefused, "witnesses", len(c.verdicts), "witnesses_refused", refused,
				"cluster_size", d.plan.size)
		case windowDone && now.Sub(c.start) >= d.o.ProbeWindow+5*d.o.ProbeEvery:
			// No majority (we may be the minority, or it is merely silent so far): start
			// over on the next tick.
			delete(d.confirms, h)
		default:
			c.ticks++
			ping(h)
		}
	}

	// Witness side: ping and knock the target, then answer.
	keep := d.witness[:0]
	for _, w := range d.witness {
		verdict := byte(255)
		switch {
		case d.msg[w.target].After(w.start) || w.knock == knockAccepted:
			verdict = verdictAlive
		case w.knock == knockRefused:
			verdict = verdictRefused
		case w.ticks >= d.probeTicks() && now.Sub(w.start) >= d.o.ProbeWindow:
			verdict = verdictSilent
		default:
			w.ticks++
			ping(w.target)
			keep = append(keep, w)
		}
		if verdict != 255 {
			out = append(out, outgoing{w.requester, message{kind: kindVerdict, id: w.id, from: d.self, target: w.target, verdict: verdict}})
		}
	}
	clear(d.witness[len(keep):])
	d.witness = keep

	// Holder side: a silent successor starts a check that we still reach a majority.
	if d.check.IsZero() {
		start := d.fenced && !now.Before(d.recheckAt)
		for _, s := range d.plan.heartbeatTo {
			start = start || !starved && now.Sub(d.heard[s]) > d.o.FenceAfter
		}
		if start {
			d.check, d.checkTick = now, 0
		}
	}
	if !d.check.IsZero() {
		reached := 0
		for _, p := range d.plan.peers {
			if d.msg[p].After(d.check) { // a message, not the grace of a new duty
				reached++
			}
		}
		majority := 2*(1+reached) > d.plan.size
		switch {
		case majority:
			d.check = time.Time{}
			for _, s := range d.plan.heartbeatTo {
				// A dead successor is the view's business; check again a period later.
				d.heard[s] = latest(d.heard[s], now)
			}
			if d.fenced {
				d.fenced, d.holdUntil = false, now.Add(d.o.HoldDown)
				d.log.Info("vip: a majority is reachable again; holding after the hold-down", "hold_down", d.o.HoldDown)
			}
		case d.checkTick >= int(d.o.FenceWindow/d.o.ProbeEvery) && now.Sub(d.check) >= d.o.FenceWindow:
			d.check, d.recheckAt = time.Time{}, now.Add(d.o.FenceWindow)
			if !d.fenced {
				d.fenced, notify = true, true
				d.metrics.detectorFences.Inc()
				d.log.Warn("vip: a majority is unreachable; releasing every VIP", "reached", reached, "cluster_size", d.plan.size)
			}
		default:
			d.checkTick++
			for _, p := range d.plan.peers {
				if !d.msg[p].After(d.check) {
					ping(p)
				}
			}
		}
	}
	if !d.holdUntil.IsZero() && !now.Before(d.holdUntil) {
		d.holdUntil, notify = time.Time{}, true
	}
	out, waitNotify := d.waitTickLocked(now, out)
	notify = notify || waitNotify
	d.metrics.detectorFenced.Set(b2f(d.fenced))
	d.mu.Unlock()

	for _, o := range out {
		d.send(o.to, o.msg)
	}
	if notify {
		d.changed()
	}
}

// knockLocked starts a Knock of name that records its outcome in r (under mu). d.mu is held.
func (d *detector) knockLocked(name string, r *knockResult) {
	if d.o.Knock == nil {
		*r = knockUnanswered
		return
	}
	go func() {
		err := d.o.Knock(name, knockTimeout)
		res := knockUnanswered
		switch {
		case err == nil:
			res = knockAccepted
		case errors.Is(err, ErrRefused), errors.Is(err, syscall.ECONNREFUSED):
			res = knockRefused
		}
		d.mu.Lock()
		*r = res
		d.mu.Unlock()
	}()
}

// probeTicks is how many ticks a confirmation or check pings before it may conclude.
func (d *detector) probeTicks() int { return max(int(d.o.ProbeWindow/d.o.ProbeEvery), 1) }

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func (d *detector) send(to string, m message) {
	if err := d.tr.Send(to, m.append(make([]byte, 0, 32))); err != nil {
		d.metrics.errors.WithLabelValues(opDetect).Inc()
		d.log.Debug("vip: detector send failed", "to", to, "err", err)
		return
	}
	d.metrics.detectorSent.WithLabelValues(kindNames[m.kind]).Inc()
}

// run ticks every ProbeEvery until done is closed.
func (d *detector) run(done <-chan struct{}) {
	t := time.NewTicker(d.o.ProbeEvery)
	defer t.Stop()
	d.runTicks(done, t.C)
}

// runTicks calls tick for every value of ticks until done is closed. It ignores the values:
// since Go 1.23 a ticker sends the time the tick was scheduled for, which lags the clock by
// however long this process waited for a CPU, and a hold-down counted from it ended at once.
func (d *detector) runTicks(done <-chan struct{}, ticks <-chan time.Time) {
	for {
		select {
		case <-done:
			return
		case <-ticks:
			d.tick()
		}
	}
}
