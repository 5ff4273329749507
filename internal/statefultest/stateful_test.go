package statefultest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// settings of a run, from the environment: `make test` runs one short sequence per shape;
// `make test-stateful` sets SHOAL_STATEFUL_DURATION and runs sequence after sequence.
type settings struct {
	seed     uint64        // SHOAL_STATEFUL_SEED: the first sequence's seed; 0 picks one
	ops      int           // SHOAL_STATEFUL_OPS: operations per sequence
	duration time.Duration // SHOAL_STATEFUL_DURATION: keep drawing sequences this long
	shrink   time.Duration // SHOAL_STATEFUL_SHRINK: time allowed to shrink a failure
}

// loadSettings reads the environment; ops defaults to short sequences (a few seconds under
// -race: membership changes cost a second or two each).
func loadSettings(t *testing.T, ops int) settings {
	s := settings{ops: ops, shrink: 60 * time.Second}
	if v := os.Getenv("SHOAL_STATEFUL_SEED"); v != "" {
		seed, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("SHOAL_STATEFUL_SEED=%q: %v", v, err)
		}
		s.seed = seed
	}
	if v := os.Getenv("SHOAL_STATEFUL_OPS"); v != "" {
		ops, err := strconv.Atoi(v)
		if err != nil || ops < 1 {
			t.Fatalf("SHOAL_STATEFUL_OPS=%q: want a positive number", v)
		}
		s.ops = ops
	}
	for _, d := range []struct {
		name string
		to   *time.Duration
	}{{"SHOAL_STATEFUL_DURATION", &s.duration}, {"SHOAL_STATEFUL_SHRINK", &s.shrink}} {
		if v := os.Getenv(d.name); v != "" {
			dur, err := time.ParseDuration(v)
			if err != nil {
				t.Fatalf("%s=%q: %v", d.name, v, err)
			}
			*d.to = dur
		}
	}
	if s.seed == 0 {
		s.seed = uint64(time.Now().UnixNano())
	}
	return s
}

// TestStateful_oneNode: one node (a one-member cluster), fills, hits, revalidations, stale
// serving, Vary and compressed variants, evictions in 1 MiB, purges of every kind racing fills.
func TestStateful_oneNode(t *testing.T) { stateful(t, 1, false) }

// TestStateful_oneNodeDisk: one node with a disk tier below its 1 MiB of memory, which takes
// every object memory evicts or refuses and answers memory's misses. It found a response from
// before a POST's answer served after it (purges reached memory before disk); fixed by
// purging disk first, ordered by generation.
func TestStateful_oneNodeDisk(t *testing.T) { stateful(t, 1, true) }

// TestStateful_cluster: the same on three members, with members joining, leaving and killed.
func TestStateful_cluster(t *testing.T) { stateful(t, 3, false) }

func stateful(t *testing.T, members int, disk bool) {
	s := loadSettings(t, 100)
	if members > 1 {
		s = loadSettings(t, 60)
	}
	r := newRunner(members, disk)
	total := &counts{}
	sequences := 0
	start := time.Now()
	for seed := s.seed; ; seed++ {
		seq := generate(rand.New(rand.NewPCG(seed, uint64(members))), s.ops, members > 1)
		n, err := r.run(seq)
		sequences++
		if n != nil {
			total.add(n)
		}
		var v *violation
		if errors.As(err, &v) {
			t.Logf("after %d sequences: %s", sequences, total)
			// Steps after the failing one played no part in it.
			shortest := shrink(t, r, seq[:n.steps.Load()], s.shrink)
			t.Fatalf("seed %d (SHOAL_STATEFUL_SEED=%d SHOAL_STATEFUL_OPS=%d): %v\nshortest sequence that fails (%d of %d steps):\n%s",
				seed, seed, s.ops, err, len(shortest), len(seq), format(shortest))
		}
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		if time.Since(start) >= s.duration {
			break
		}
	}
	t.Logf("%d members (disk tier %v), %d sequences from seed %d in %v: %s", members, disk, sequences, s.seed, time.Since(start).Round(time.Millisecond), total)
}

// shrink deletes steps, then single operations, from a failing sequence while it still
// fails (each candidate run twice: the cluster's timing varies), until no deletion keeps it
// failing or budget is spent. A candidate that fails is cut after its failing step.
func shrink(t *testing.T, r *runner, seq []step, budget time.Duration) []step {
	deadline := time.Now().Add(budget)
	fails := func(cand []step) ([]step, bool) {
		for range 2 {
			if time.Now().After(deadline) {
				return nil, false
			}
			n, err := r.run(cand)
			var v *violation
			if errors.As(err, &v) {
				return cand[:n.steps.Load()], true
			}
		}
		return nil, false
	}
	for chunk := len(seq) / 2; chunk >= 1 && time.Now().Before(deadline); chunk /= 2 {
		for i := 0; i+chunk <= len(seq) && time.Now().Before(deadline); {
			cand := append(append([]step{}, seq[:i]...), seq[i+chunk:]...)
			if len(cand) == 0 {
				break
			}
			if shorter, ok := fails(cand); ok {
				seq = shorter
				continue
			}
			i += chunk
		}
	}
	for i := 0; i < len(seq) && time.Now().Before(deadline); i++ {
		for j := 0; i < len(seq) && len(seq[i]) > 1 && j < len(seq[i]); {
			cand := append([]step{}, seq...)
			cand[i] = append(append(step{}, seq[i][:j]...), seq[i][j+1:]...)
			if shorter, ok := fails(cand); ok {
				seq = shorter
				continue
			}
			j++
		}
	}
	if time.Now().After(deadline) {
		t.Logf("shrinking stopped after %v", budget)
	}
	return seq
}

func format(seq []step) string {
	var b strings.Builder
	for i, s := range seq {
		fmt.Fprintf(&b, "  %3d. %s\n", i+1, s)
	}
	return b.String()
}
