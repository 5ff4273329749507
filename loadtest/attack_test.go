package loadtest

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

func testServer(t *testing.T, handler http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	return srv
}

func get(url string) vegeta.Targeter {
	return vegeta.NewStaticTargeter(vegeta.Target{Method: http.MethodGet, URL: url})
}

// collect runs an attack and returns its results in the order they finished.
func collect(t *testing.T, cfg Config, tr vegeta.Targeter) []vegeta.Result {
	t.Helper()
	var out []vegeta.Result
	err := Attack(context.Background(), cfg, tr, func(r *vegeta.Result) error {
		out = append(out, *r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestAttack_SlowServerDoesNotLowerRate is the open-loop property: every response takes
// longer than the whole schedule's spacing, and still every scheduled request is sent on
// time, because vegeta adds workers instead of waiting for responses: about 15 requests are
// at the server at once (300ms at 50/s), where a closed loop would have one.
func TestAttack_SlowServerDoesNotLowerRate(t *testing.T) {
	var served, inFlight, most atomic.Int64
	srv := testServer(t, func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		time.Sleep(300 * time.Millisecond)
	})
	got := collect(t, Config{Pacer: PerSecond(50), Duration: time.Second, Workers: 1}, get(srv.URL))
	if len(got) != 50 || served.Load() != 50 {
		t.Fatalf("%d results, %d served; want 50 of each at 50/s for 1s", len(got), served.Load())
	}
	if most.Load() < 10 {
		t.Fatalf("at most %d requests in flight: the attack waited for responses", most.Load())
	}
	for _, r := range got {
		if r.Code != 200 || r.Latency < 300*time.Millisecond {
			t.Fatalf("result %+v", r)
		}
	}
}

// TestAttack_FromScheduleCountsTheStall is coordinated omission made visible. One worker, 100
// requests a second, and the server stalls the 11th request for 700ms: the 70 requests due
// during the stall wait for the worker and are then sent back to back. vegeta measures them
// from when they were sent, so they look fast; measured from when they were due, their wait
// is latency, as it would be for users arriving on schedule.
func TestAttack_FromScheduleCountsTheStall(t *testing.T) {
	const stall = 700 * time.Millisecond
	// Both measurements run at once, each against its own server, to keep the test short.
	run := func(fromSchedule bool) *vegeta.Metrics {
		var n atomic.Int64
		srv := testServer(t, func(w http.ResponseWriter, r *http.Request) {
			if n.Add(1) == 11 {
				time.Sleep(stall)
			}
		})
		m, err := Run(context.Background(), Config{Pacer: PerSecond(100), Duration: time.Second,
			Workers: 1, MaxWorkers: 1, FromSchedule: fromSchedule}, get(srv.URL))
		if err != nil {
			t.Error(err)
		} else if m.Requests < 90 || m.Success != 1 || m.Latencies.Max < stall {
			t.Errorf("from schedule %v: %d requests, success %v, max %v", fromSchedule, m.Requests, m.Success, m.Latencies.Max)
		}
		return m
	}
	var sent *vegeta.Metrics
	done := make(chan struct{})
	go func() {
		defer close(done)
		sent = run(false)
	}()
	due := run(true)
	<-done
	if t.Failed() {
		return
	}
	if sent.Latencies.P90 > 100*time.Millisecond {
		t.Errorf("measured from sending, p90 = %v: want the stall hidden (< 100ms)", sent.Latencies.P90)
	}
	if due.Latencies.P90 < 300*time.Millisecond {
		t.Errorf("measured from the schedule, p90 = %v: want the stall counted (> 300ms)", due.Latencies.P90)
	}
	t.Logf("p50/p90/max from sending %v/%v/%v, from the schedule %v/%v/%v", sent.Latencies.P50, sent.Latencies.P90,
		sent.Latencies.Max, due.Latencies.P50, due.Latencies.P90, due.Latencies.Max)
}

// TestBurst_SendsEachBurstConcurrently: the server holds each request until the whole burst
// for its key has arrived, so every 200 proves the burst was in flight at once.
func TestBurst_SendsEachBurstConcurrently(t *testing.T) {
	const burst = 5
	var (
		mu      sync.Mutex
		perPath = map[string]int{}
		full    = map[string]chan struct{}{}
	)
	srv := testServer(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		ch, ok := full[r.URL.Path]
		if !ok {
			ch = make(chan struct{})
			full[r.URL.Path] = ch
		}
		if perPath[r.URL.Path]++; perPath[r.URL.Path] == burst {
			close(ch)
		}
		mu.Unlock()
		select {
		case <-ch:
		case <-time.After(5 * time.Second):
			w.WriteHeader(http.StatusGatewayTimeout)
		}
	})
	// 50/s in bursts of 5: one burst every 100ms, two bursts in 200ms.
	got := collect(t, Config{Pacer: Burst{Constant: PerSecond(50), Size: burst}, Duration: 200 * time.Millisecond, Workers: 1},
		StampedeTargeter(KeySpace{Bases: []string{srv.URL}}, burst, "t"))
	if len(got) != 2*burst {
		t.Fatalf("%d results, want %d", len(got), 2*burst)
	}
	for _, r := range got {
		if r.Code != 200 {
			t.Fatalf("seq %d (%s) code %d: burst was not concurrent", r.Seq, r.URL, r.Code)
		}
	}
	if len(perPath) != 2 {
		t.Fatalf("paths %v, want 2 keys", perPath)
	}
}

// TestSchedule_DueAgreesWithPace: a hit is due when Pace, asked at time zero, says to wait
// until; for Constant that is vegeta's own ConstantPacer.
func TestSchedule_DueAgreesWithPace(t *testing.T) {
	const ms = time.Millisecond
	tests := []struct {
		name  string
		s     Schedule
		first []time.Duration // Due(0), Due(1), ...
	}{
		{"100/s", PerSecond(100), []time.Duration{10 * ms, 20 * ms, 30 * ms, 40 * ms}},
		{"3/100ms, vegeta's integer interval", Constant{Freq: 3, Per: 100 * ms}, []time.Duration{33333333, 66666666, 99999999}},
		{"bursts of 3 at 100/s", Burst{Constant: PerSecond(100), Size: 3}, []time.Duration{30 * ms, 30 * ms, 30 * ms, 60 * ms, 60 * ms, 60 * ms, 90 * ms}},
		{"burst size 0 is 1", Burst{Constant: PerSecond(100)}, []time.Duration{10 * ms, 20 * ms}},
	}
	for _, tt := range tests {
		for n, want := range tt.first {
			if got := tt.s.Due(uint64(n)); got != want {
				t.Errorf("%s: Due(%d) = %v, want %v", tt.name, n, got, want)
			}
			if wait, stop := tt.s.Pace(0, uint64(n)); stop || wait != want {
				t.Errorf("%s: Pace(0, %d) = %v, %v; want %v", tt.name, n, wait, stop, want)
			}
		}
	}
	if _, stop := (Burst{Constant: Constant{}, Size: 3}).Pace(0, 0); !stop {
		t.Error("an unpaced Burst must stop, not spin")
	}
}

func TestAttack_ConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no pacer", Config{}, "needs a pacer"},
		{"unpaced without a worker cap", Config{Pacer: Constant{}}, "max workers"},
		{"unpaced vegeta pacer without a worker cap", Config{Pacer: vegeta.Rate{}}, "max workers"},
		{"more workers than the cap", Config{Pacer: PerSecond(1), Workers: 5, MaxWorkers: 2}, "above max workers"},
		{"from schedule without one", Config{Pacer: vegeta.Rate{Freq: 1, Per: time.Second}, FromSchedule: true}, "schedule"},
		{"from schedule unpaced", Config{Pacer: Constant{}, MaxWorkers: 1, FromSchedule: true}, "schedule"},
	}
	for _, tt := range tests {
		err := Attack(context.Background(), tt.cfg, get("http://127.0.0.1:1/"), func(*vegeta.Result) error { return nil })
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one containing %q", tt.name, err, tt.want)
		}
	}
}

// TestAttack_SinkErrorStops: a results file that cannot be written ends the attack early
// instead of load running on with nowhere to record it.
func TestAttack_SinkErrorStops(t *testing.T) {
	srv := testServer(t, func(w http.ResponseWriter, r *http.Request) {})
	full := errors.New("disk full")
	var calls int
	start := time.Now()
	err := Attack(context.Background(), Config{Pacer: PerSecond(100), Duration: 5 * time.Second}, get(srv.URL),
		func(*vegeta.Result) error { calls++; return full })
	if !errors.Is(err, full) || calls != 1 {
		t.Fatalf("error %v after %d calls, want %v after 1", err, calls, full)
	}
	if time.Since(start) > 2*time.Second {
		t.Fatalf("attack ran %v after its sink failed", time.Since(start))
	}
}

func TestAttack_ContextEndsIt(t *testing.T) {
	srv := testServer(t, func(w http.ResponseWriter, r *http.Request) {})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	m, err := Run(ctx, Config{Pacer: PerSecond(100)}, get(srv.URL))
	if err != nil || m.Requests < 10 || m.Requests > 40 {
		t.Fatalf("%d requests in 200ms at 100/s, error %v", m.Requests, err)
	}
}

// TestAttack_UnpacedIsAClosedLoop: rate 0 sends as fast as MaxWorkers workers can, never more
// at once.
func TestAttack_UnpacedIsAClosedLoop(t *testing.T) {
	var inFlight, most atomic.Int64
	srv := testServer(t, func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		time.Sleep(5 * time.Millisecond)
	})
	m, err := Run(context.Background(), Config{Pacer: Constant{}, Duration: 200 * time.Millisecond, Workers: 2, MaxWorkers: 2}, get(srv.URL))
	if err != nil || m.Requests < 10 || most.Load() > 2 {
		t.Fatalf("%d requests, at most %d at once, error %v; want many, at most 2 at once", m.Requests, most.Load(), err)
	}
}
