package loadtest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// collect runs an attack and returns its results sorted by seq.
func collect(t *testing.T, cfg AttackConfig, h Hitter) ([]Result, Summary) {
	t.Helper()
	return collectCtx(t, context.Background(), cfg, h)
}

func collectCtx(t *testing.T, ctx context.Context, cfg AttackConfig, h Hitter) ([]Result, Summary) {
	t.Helper()
	a, err := NewAttacker(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var out []Result
	sum := a.Attack(ctx, h, func(r *Result) { out = append(out, *r) })
	sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out, sum
}

func okServer(t *testing.T, handler http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	return srv
}

func oneTarget(url string) TargetFunc {
	return StaticTargets([]Target{{Method: "GET", URL: url}})
}

func TestAttacker_OpenLoopSendsEveryScheduledRequest(t *testing.T) {
	var served atomic.Int64
	srv := okServer(t, func(w http.ResponseWriter, r *http.Request) { served.Add(1) })
	tests := []struct {
		rate     float64
		duration time.Duration
		want     int
	}{
		{rate: 200, duration: 200 * time.Millisecond, want: 40},
		{rate: 50, duration: 100 * time.Millisecond, want: 5},
		{rate: 1000, duration: 50 * time.Millisecond, want: 50},
	}
	for _, tt := range tests {
		served.Store(0)
		h := NewHTTPHitter(HTTPConfig{Timeout: 5 * time.Second}, oneTarget(srv.URL))
		got, sum := collect(t, AttackConfig{Name: "pace", Pacer: ConstantPacer{Rate: tt.rate}, Duration: tt.duration}, h)
		h.Close()
		if len(got) != tt.want || sum.Requests != uint64(tt.want) || served.Load() != int64(tt.want) {
			t.Fatalf("rate %v for %v: %d results, summary %d, served %d; want %d",
				tt.rate, tt.duration, len(got), sum.Requests, served.Load(), tt.want)
		}
		interval := time.Duration(float64(time.Second) / tt.rate)
		for i, r := range got {
			if r.Seq != uint64(i) || r.Code != 200 || r.Attack != "pace" {
				t.Fatalf("result %d = %+v", i, r)
			}
			// Timestamps are the schedule itself, not when a worker got round to it.
			if gap := r.Timestamp.Sub(got[0].Timestamp); gap != time.Duration(i)*interval {
				t.Fatalf("result %d scheduled %v after the first, want %v", i, gap, time.Duration(i)*interval)
			}
		}
	}
}

// TestAttacker_OpenLoopDoesNotWaitForResponses proves the schedule is independent of the
// target: the server answers nothing until all requests are in flight at once.
func TestAttacker_OpenLoopDoesNotWaitForResponses(t *testing.T) {
	const n = 10
	var (
		mu      sync.Mutex
		arrived int
		release = make(chan struct{})
	)
	srv := okServer(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		arrived++
		if arrived == n {
			close(release)
		}
		mu.Unlock()
		select {
		case <-release:
		case <-time.After(10 * time.Second):
			w.WriteHeader(http.StatusGatewayTimeout)
		}
	})
	h := NewHTTPHitter(HTTPConfig{Timeout: 15 * time.Second}, oneTarget(srv.URL))
	defer h.Close()
	got, sum := collect(t, AttackConfig{Pacer: ConstantPacer{Rate: 100}, Duration: 100 * time.Millisecond, Workers: 1, MaxWorkers: 50}, h)
	if len(got) != n {
		t.Fatalf("%d results, want %d", len(got), n)
	}
	for _, r := range got {
		if r.Code != 200 {
			t.Fatalf("seq %d code %d: requests were not all in flight together", r.Seq, r.Code)
		}
	}
	if sum.Workers < n {
		t.Fatalf("%d workers spawned, want at least %d", sum.Workers, n)
	}
}

// TestAttacker_NoCoordinatedOmission holds the pool at one worker against a slow server: the
// requests must all still be sent, and their latency must include the time spent queued
// behind the schedule, not just the server's time.
func TestAttacker_NoCoordinatedOmission(t *testing.T) {
	const (
		n        = 10
		interval = 10 * time.Millisecond
		service  = 30 * time.Millisecond
	)
	srv := okServer(t, func(w http.ResponseWriter, r *http.Request) { time.Sleep(service) })
	h := NewHTTPHitter(HTTPConfig{Timeout: 5 * time.Second}, oneTarget(srv.URL))
	defer h.Close()
	got, sum := collect(t, AttackConfig{Pacer: ConstantPacer{Rate: float64(time.Second / interval)},
		Duration: n * interval, Workers: 1, MaxWorkers: 1}, h)
	if len(got) != n || sum.Workers != 1 {
		t.Fatalf("%d results with %d workers, want %d with 1", len(got), sum.Workers, n)
	}
	for i, r := range got {
		// Serial service means request i cannot finish before (i+1)*service from the start,
		// and it was due at i*interval.
		floor := time.Duration(i+1)*service - time.Duration(i)*interval
		if r.Latency < floor {
			t.Fatalf("seq %d latency %v < %v: queueing delay was omitted", i, r.Latency, floor)
		}
	}
}

func TestAttacker_ClosedLoopKeepsWorkersBusy(t *testing.T) {
	const workers = 3
	var inFlight, peak atomic.Int64
	srv := okServer(t, func(w http.ResponseWriter, r *http.Request) {
		now := inFlight.Add(1)
		for {
			old := peak.Load()
			if now <= old || peak.CompareAndSwap(old, now) {
				break
			}
		}
		time.Sleep(2 * time.Millisecond)
		inFlight.Add(-1)
	})
	h := NewHTTPHitter(HTTPConfig{Timeout: 5 * time.Second}, oneTarget(srv.URL))
	defer h.Close()
	got, sum := collect(t, AttackConfig{Workers: workers, Duration: 150 * time.Millisecond}, h)
	if len(got) <= workers {
		t.Fatalf("only %d results from a closed loop of %d workers", len(got), workers)
	}
	if p := peak.Load(); p > workers {
		t.Fatalf("peak concurrency %d exceeds %d workers", p, workers)
	}
	for i, r := range got {
		if r.Seq != uint64(i) {
			t.Fatalf("seq %d at position %d: sequence numbers must be unique and dense", r.Seq, i)
		}
	}
	if sum.Workers != workers || sum.Interrupted {
		t.Fatalf("summary %+v", sum)
	}
}

func TestAttacker_CancelStopsUnboundedAttack(t *testing.T) {
	for _, pacer := range []Pacer{nil, ConstantPacer{Rate: 500}} {
		ctx, cancel := context.WithCancel(context.Background())
		hits := atomic.Int64{}
		h := HitterFunc(func(_ context.Context, _ uint64, r *Result) {
			if hits.Add(1) == 20 {
				cancel()
			}
			r.Code = 200
			time.Sleep(time.Millisecond)
		})
		got, sum := collectCtx(t, ctx, AttackConfig{Pacer: pacer}, h)
		if !sum.Interrupted || len(got) < 20 || uint64(len(got)) != sum.Requests {
			t.Fatalf("pacer %v: %d results, summary %+v", pacer, len(got), sum)
		}
		cancel()
	}
}

func TestBurstPacer_ReleasesBurstsTogether(t *testing.T) {
	p := BurstPacer{Rate: 100, Burst: 4}
	for seq, want := range []time.Duration{0, 0, 0, 0, 40 * time.Millisecond, 40 * time.Millisecond, 40 * time.Millisecond, 40 * time.Millisecond, 80 * time.Millisecond} {
		if got := p.Due(uint64(seq)); got != want {
			t.Fatalf("Due(%d) = %v, want %v", seq, got, want)
		}
	}
}

func TestNewAttacker_RejectsBadConfig(t *testing.T) {
	for _, cfg := range []AttackConfig{{Workers: 5, MaxWorkers: 2}, {Duration: -time.Second}} {
		if _, err := NewAttacker(cfg); err == nil {
			t.Errorf("NewAttacker(%+v) succeeded", cfg)
		}
	}
}
