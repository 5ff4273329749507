package vip

import (
	"log/slog"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
)

// newFencedDetector returns a detector for edge-3 of a 3-node cluster that is fenced (it
// found no majority) and has not started a new reach check yet.
func newFencedDetector(t *testing.T) *detector {
	t.Helper()
	met, err := newMetrics(nil)
	if err != nil {
		t.Fatal(err)
	}
	d := newDetector("edge-3", DetectorOptions{Transport: TransportFunc(func(string, []byte) error { return nil })},
		slog.New(slog.DiscardHandler), met, func() {})
	d.plan = plan{heartbeatTo: []string{"edge-1"}, peers: []string{"edge-1", "edge-2"}, size: 3}
	d.fenced = true
	return d
}

// staleTick hands the detector's loop one tick whose value is the given time, as a ticker
// does after the process waited for a CPU, and returns once the tick has run.
func staleTick(d *detector, value time.Time) {
	ticks, done, exited := make(chan time.Time), make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		d.runTicks(done, ticks)
	}()
	ticks <- value // received: the loop runs the tick before it looks at done again
	close(done)
	<-exited
}

func pongFrom(name string) []byte { return message{kind: kindPong, from: name}.append(nil) }

// TestDetector_staleTickCannotShortenTheHoldDown: the CI failure of issue 20. A fenced holder's
// check concluded on a tick whose value was the scheduled time, far behind the clock; the
// hold-down counted from it was over before it began, and the holder took its VIP back 5 ms
// later instead of 150 ms, beside the member that still held it.
func TestDetector_staleTickCannotShortenTheHoldDown(t *testing.T) {
	d := newFencedDetector(t)
	d.tick() // starts the reach check
	d.receive(pongFrom("edge-1"), time.Now())
	before := time.Now()
	staleTick(d, before.Add(-time.Second))
	d.mu.Lock()
	fenced, holdUntil := d.fenced, d.holdUntil
	d.mu.Unlock()
	if fenced {
		t.Fatal("the check did not conclude on the tick after a majority answered: the test proves nothing")
	}
	if want := before.Add(d.o.HoldDown); holdUntil.Before(want) {
		t.Errorf("hold-down until %v after the check, want at least %v (HoldDown %v from the real clock)",
			holdUntil.Sub(before), d.o.HoldDown, d.o.HoldDown)
	}
	if _, blocked := d.state(time.Now()); !blocked {
		t.Error("the node may hold VIPs right after the check: the hold-down was skipped")
	}
}

// TestDetector_staleTickCannotCountOldMessagesForACheck: the neighbour of the hold-down
// fault. A reach check that starts on a stale tick would count messages heard before it
// started (up to the tick's lag earlier) as answers, and end a fence on old news.
func TestDetector_staleTickCannotCountOldMessagesForACheck(t *testing.T) {
	d := newFencedDetector(t)
	d.receive(pongFrom("edge-1"), time.Now()) // heard before any check
	staleTick(d, time.Now().Add(-time.Second))
	d.mu.Lock()
	fenced, check := d.fenced, d.check
	d.mu.Unlock()
	if !fenced {
		t.Error("a check that started after the last message ended the fence at once")
	}
	if check.IsZero() {
		t.Error("no reach check running after the tick")
	}
}

// TestDetector_viewChangeIsNoAnswerToAFencedCheck: a member newly next in line gets a
// period of grace (it may not know yet that it is), written as if it had been heard. A
// fenced holder's reach check must not count that grace as an answer: in the real-node
// partition test the isolated holder, whose memberlist dropped one peer and so made the
// other its successor, ended its fence on that, took its VIP back beside the majority's
// holder, and fenced again 14 ms later.
func TestDetector_viewChangeIsNoAnswerToAFencedCheck(t *testing.T) {
	d := newFencedDetector(t)
	d.tick() // starts the reach check
	d.setPlan(plan{heartbeatTo: []string{"edge-2"}, peers: []string{"edge-2"}, size: 3},
		map[string]bool{"edge-2": true, "edge-3": true}, time.Now())
	d.tick()
	d.mu.Lock()
	fenced := d.fenced
	d.mu.Unlock()
	if !fenced {
		t.Error("the fence ended without a message from any peer")
	}
	d.receive(pongFrom("edge-2"), time.Now())
	d.tick()
	d.mu.Lock()
	fenced = d.fenced
	d.mu.Unlock()
	if fenced {
		t.Error("the fence did not end when a majority answered: the test proves nothing")
	}
}

// TestDetector_starvedSuccessorCountsSilenceInItsOwnTicks: the neighbour of the stale tick on
// the successor's side. A successor that was starved of CPU for most of a second finds the
// holder's last message a second old, but the heartbeats sent meanwhile may sit unread in
// its socket: wall-clock silence alone, with a witness that heard nothing either, must not
// mark the holder down before this node has ticked through SilentAfter itself. (With every
// process of a test on two busy cores, the holder's fence, which counts its ticks, came
// after its successor's takeover, which did not: two holders.)
func TestDetector_starvedSuccessorCountsSilenceInItsOwnTicks(t *testing.T) {
	met, err := newMetrics(nil)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var probes []message
	d := newDetector("edge-1", DetectorOptions{Transport: TransportFunc(func(_ string, b []byte) error {
		if m, err := decodeMessage(b); err == nil && m.kind == kindProbe {
			mu.Lock()
			probes = append(probes, m)
			mu.Unlock()
		}
		return nil
	})}, slog.New(slog.DiscardHandler), met, func() {})
	d.setPlan(plan{watch: []string{"edge-3"}, peers: []string{"edge-2", "edge-3"}, size: 3},
		map[string]bool{"edge-1": true, "edge-2": true, "edge-3": true}, time.Now())
	d.mu.Lock()
	d.heard["edge-3"] = time.Now().Add(-time.Second) // heard a second ago, then this node froze
	d.mu.Unlock()
	deadline := time.Now().Add(2 * DefaultProbeWindow)
	for time.Now().Before(deadline) {
		d.tick()
		mu.Lock()
		for _, p := range probes { // the witness heard nothing either
			d.receive(message{kind: kindVerdict, id: p.id, from: "edge-2", target: "edge-3", verdict: verdictSilent}.append(nil), time.Now())
		}
		probes = probes[:0]
		mu.Unlock()
		time.Sleep(DefaultProbeEvery)
	}
	down, _ := d.state(time.Now())
	if down["edge-3"] {
		t.Errorf("edge-3 marked down after %d ticks of this node's: wall-clock silence alone counted", int(2*DefaultProbeWindow/DefaultProbeEvery))
	}
	var suspicions dto.Metric
	if err := met.detectorSuspicions.Write(&suspicions); err != nil || suspicions.GetCounter().GetValue() == 0 {
		t.Error("edge-3 was never suspected: the test proves nothing")
	}
}
