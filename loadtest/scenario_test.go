package loadtest

import (
	"math"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestZipf_MatchesDistribution(t *testing.T) {
	tests := []struct {
		keys int
		s    float64
	}{
		{keys: 100, s: 1.0},
		{keys: 1000, s: 0.8},
		{keys: 50, s: 1.5},
	}
	const draws = 200000
	for _, tt := range tests {
		z, err := NewZipf(tt.keys, tt.s)
		if err != nil {
			t.Fatal(err)
		}
		counts := make([]int, tt.keys)
		for i := uint64(0); i < draws; i++ {
			counts[z.Rank(uniform(42, i))]++
		}
		var norm float64
		for k := 1; k <= tt.keys; k++ {
			norm += math.Pow(float64(k), -tt.s)
		}
		// The top ranks carry enough mass to check each within 5 standard deviations.
		for k := 0; k < 5; k++ {
			p := math.Pow(float64(k+1), -tt.s) / norm
			want := p * draws
			sd := math.Sqrt(draws * p * (1 - p))
			if math.Abs(float64(counts[k])-want) > 5*sd {
				t.Errorf("keys %d s %v: rank %d drawn %d times, want %.0f ± %.0f", tt.keys, tt.s, k, counts[k], want, 5*sd)
			}
		}
		// Popularity must fall with rank: compare the first and second half of the key space.
		var head, tail int
		for k, c := range counts {
			if k < tt.keys/2 {
				head += c
			} else {
				tail += c
			}
		}
		if head <= tail {
			t.Errorf("keys %d s %v: head %d <= tail %d", tt.keys, tt.s, head, tail)
		}
	}
}

func TestZipf_EdgesAndBadParams(t *testing.T) {
	z, err := NewZipf(3, 1)
	if err != nil {
		t.Fatal(err)
	}
	if r := z.Rank(0); r != 0 {
		t.Errorf("Rank(0) = %d", r)
	}
	if r := z.Rank(math.Nextafter(1, 0)); r != 2 {
		t.Errorf("Rank(~1) = %d", r)
	}
	for _, bad := range []struct {
		n int
		s float64
	}{{0, 1}, {-1, 1}, {10, 0}, {10, -1}, {10, math.NaN()}, {10, math.Inf(1)}, {maxZipfKeys + 1, 1}} {
		if _, err := NewZipf(bad.n, bad.s); err == nil {
			t.Errorf("NewZipf(%d, %v) succeeded", bad.n, bad.s)
		}
	}
}

func TestScenarioTargets_URLs(t *testing.T) {
	ks := KeySpace{Bases: []string{"http://a:1", "http://b:2/"}}
	z, _ := NewZipf(10, 1)
	tests := []struct {
		name    string
		targets TargetFunc
		want    []string
	}{
		{"hit cycles keys over every base", HitTargets(ks, 2),
			[]string{"http://a:1/obj/0", "http://b:2/obj/0", "http://a:1/obj/1", "http://b:2/obj/1", "http://a:1/obj/0"}},
		{"miss never repeats", MissTargets(ks, "r1"),
			[]string{"http://a:1/obj/miss-r1-0", "http://b:2/obj/miss-r1-1", "http://a:1/obj/miss-r1-2"}},
		{"stampede shares a key per burst", StampedeTargets(ks, 3, "r2"),
			[]string{"http://a:1/obj/stampede-r2-0", "http://b:2/obj/stampede-r2-0", "http://a:1/obj/stampede-r2-0", "http://b:2/obj/stampede-r2-1"}},
		{"static cycles", StaticTargets([]Target{{URL: "x"}, {URL: "y"}}), []string{"x", "y", "x"}},
	}
	for _, tt := range tests {
		for seq, want := range tt.want {
			if got := tt.targets(uint64(seq)).URL; got != want {
				t.Errorf("%s: seq %d = %q, want %q", tt.name, seq, got, want)
			}
		}
	}
	zt := ZipfTargets(ks, z, 7)
	if a, b := zt(5).URL, zt(5).URL; a != b || !strings.Contains(a, "/obj/") {
		t.Errorf("zipf targets not deterministic per seq: %q %q", a, b)
	}
	if m := (KeySpace{Bases: []string{"http://h"}, Prefix: "/p/", Method: "HEAD"}).target(0, "k"); m.Method != "HEAD" || m.URL != "http://h/p/k" {
		t.Errorf("custom key space target %+v", m)
	}
}

// TestStampede_SendsBurstConcurrently: the server holds each request until the whole burst
// for its key has arrived, so every 200 proves the burst was in flight at once.
func TestStampede_SendsBurstConcurrently(t *testing.T) {
	const burst = 5
	var (
		mu      sync.Mutex
		perPath = map[string]int{}
		full    = map[string]chan struct{}{}
	)
	srv := okServer(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		ch, ok := full[r.URL.Path]
		if !ok {
			ch = make(chan struct{})
			full[r.URL.Path] = ch
		}
		perPath[r.URL.Path]++
		if perPath[r.URL.Path] == burst {
			close(ch)
		}
		mu.Unlock()
		select {
		case <-ch:
		case <-time.After(10 * time.Second):
			w.WriteHeader(http.StatusGatewayTimeout)
		}
	})
	ks := KeySpace{Bases: []string{srv.URL}}
	h := NewHTTPHitter(HTTPConfig{Timeout: 15 * time.Second}, StampedeTargets(ks, burst, "t"))
	defer h.Close()
	// 50/s in bursts of 5: one burst every 100ms, two bursts in 200ms.
	got, _ := collect(t, AttackConfig{Pacer: BurstPacer{Rate: 50, Burst: burst}, Duration: 200 * time.Millisecond, Workers: 1}, h)
	if len(got) != 2*burst {
		t.Fatalf("%d results, want %d", len(got), 2*burst)
	}
	for _, r := range got {
		if r.Code != 200 {
			t.Fatalf("seq %d (%s) code %d: burst was not concurrent", r.Seq, r.URL, r.Code)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(perPath) != 2 {
		t.Fatalf("paths %v, want 2 keys", perPath)
	}
}
