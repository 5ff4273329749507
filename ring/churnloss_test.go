package ring

import (
	"context"
	"log/slog"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// eventCounter counts the ring's membership log records by message.
type eventCounter struct{ up, down *atomic.Int64 }

func (h eventCounter) Enabled(context.Context, slog.Level) bool { return true }
func (h eventCounter) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h eventCounter) WithGroup(string) slog.Handler            { return h }
func (h eventCounter) Handle(_ context.Context, r slog.Record) error {
	switch r.Message {
	case "ring: member up":
		h.up.Add(1)
	case "ring: member down":
		h.down.Add(1)
	}
	return nil
}

// TestRing_churnUnderLoss measures where ring changes come from when packets are lost: a
// measurement, not an assertion, run by hand inside a network namespace whose loopback drops
// packets (netem where the kernel has it; otherwise the eBPF dropper of cmd/shoal's VIP loss
// test attached to lo):
//
//	ip netns add loss && ip -n loss link set lo up
//	ip netns exec loss tc qdisc add dev lo root netem loss 20%
//	go test -c -o /tmp/ringtest ./ring
//	SHOAL_RING_LOSS_SECONDS=60 ip netns exec loss /tmp/ringtest -test.run TestRing_churnUnderLoss -test.v
//
// Each node re-announces its origins-down count every second, unchanged, as a readiness loop
// may. It logs the ring changes of all three nodes and how many were peer joins or metadata
// updates and peer deaths.
func TestRing_churnUnderLoss(t *testing.T) {
	seconds, _ := strconv.Atoi(os.Getenv("SHOAL_RING_LOSS_SECONDS"))
	if seconds <= 0 {
		t.Skip("a measurement: set SHOAL_RING_LOSS_SECONDS and run it in a lossy namespace")
	}
	var up, down atomic.Int64
	var nodes [3]node
	var regs [3]*prometheus.Registry
	for i := range nodes {
		regs[i] = prometheus.NewRegistry()
		nodes[i].opts.Registerer = regs[i]
		nodes[i].opts.Logger = slog.New(eventCounter{&up, &down})
	}
	rings := startCluster(t, nodes[0], nodes[1], nodes[2])
	time.Sleep(time.Second)
	total := func() (sum float64) {
		for _, reg := range regs {
			sum += gather(t, reg)["shoal_ring_changes_total"]
		}
		return sum
	}
	before, up0, down0 := total(), up.Load(), down.Load()
	end := time.Now().Add(time.Duration(seconds) * time.Second)
	for time.Now().Before(end) {
		for _, r := range rings {
			go func() { _ = r.SetOriginsDown(0) }()
		}
		time.Sleep(time.Second)
	}
	perMinute := 60 / float64(seconds)
	t.Logf("over %ds on 3 nodes: %.0f ring changes (%.0f a minute), of which peer joins/updates %d, peer deaths %d",
		seconds, total()-before, (total()-before)*perMinute, up.Load()-up0, down.Load()-down0)
}
