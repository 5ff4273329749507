package loadtest

import (
	"math"
	"net/http"
	"strings"
	"sync"
	"testing"

	vegeta "github.com/tsenart/vegeta/v12/lib"
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

// urls draws n targets from tr in order.
func urls(t *testing.T, tr vegeta.Targeter, n int) []string {
	t.Helper()
	var out []string
	for range n {
		var tgt vegeta.Target
		if err := tr(&tgt); err != nil {
			t.Fatal(err)
		}
		out = append(out, tgt.Method+" "+tgt.URL)
	}
	return out
}

func TestScenarioTargeters_URLs(t *testing.T) {
	ks := KeySpace{Bases: []string{"http://a:1", "http://b:2/"}}
	tests := []struct {
		name string
		tr   vegeta.Targeter
		want []string
	}{
		{"hit cycles keys over every base", HitTargeter(ks, 2),
			[]string{"GET http://a:1/obj/0", "GET http://b:2/obj/0", "GET http://a:1/obj/1", "GET http://b:2/obj/1", "GET http://a:1/obj/0"}},
		{"miss never repeats", MissTargeter(ks, "r1"),
			[]string{"GET http://a:1/obj/miss-r1-0", "GET http://b:2/obj/miss-r1-1", "GET http://a:1/obj/miss-r1-2"}},
		{"stampede shares a key per burst", StampedeTargeter(ks, 3, "r2"),
			[]string{"GET http://a:1/obj/stampede-r2-0", "GET http://b:2/obj/stampede-r2-0", "GET http://a:1/obj/stampede-r2-0", "GET http://b:2/obj/stampede-r2-1"}},
		{"custom prefix and method", HitTargeter(KeySpace{Bases: []string{"http://h"}, Prefix: "/p/", Method: "HEAD"}, 1),
			[]string{"HEAD http://h/p/0"}},
	}
	for _, tt := range tests {
		if got := urls(t, tt.tr, len(tt.want)); strings.Join(got, " ") != strings.Join(tt.want, " ") {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, got, tt.want)
		}
	}
	z, _ := NewZipf(10, 1)
	a, b := urls(t, ZipfTargeter(ks, z, 7), 50), urls(t, ZipfTargeter(ks, z, 7), 50)
	if strings.Join(a, " ") != strings.Join(b, " ") || !strings.Contains(a[0], "/obj/") {
		t.Errorf("zipf targets are not reproducible from the seed: %q vs %q", a[:3], b[:3])
	}
	if err := HitTargeter(ks, 1)(nil); err != vegeta.ErrNilTarget {
		t.Errorf("nil target: %v", err)
	}
}

// TestTargeters_ConcurrentCallsNumberEachRequestOnce: vegeta's workers call a targeter at
// once; each request number must be handed out exactly once.
func TestTargeters_ConcurrentCallsNumberEachRequestOnce(t *testing.T) {
	tr := MissTargeter(KeySpace{Bases: []string{"http://h"}}, "c")
	var (
		mu   sync.Mutex
		seen = map[string]bool{}
		wg   sync.WaitGroup
	)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				var tgt vegeta.Target
				_ = tr(&tgt)
				mu.Lock()
				seen[tgt.URL] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != 800 {
		t.Fatalf("%d distinct URLs from 800 calls", len(seen))
	}
}

func TestPurgeTargeter_Bodies(t *testing.T) {
	z, _ := NewZipf(20, 1)
	ks := KeySpace{Bases: []string{"http://www.example.test"}}
	tr := PurgeTargeter("http://127.0.0.1:9090/", "s3cret", MixedPurges(ks.URL, z, 1))
	var urls, prefixes int
	for range 10 {
		var tgt vegeta.Target
		if err := tr(&tgt); err != nil {
			t.Fatal(err)
		}
		if tgt.Method != http.MethodPost || tgt.URL != "http://127.0.0.1:9090/purge" ||
			tgt.Header.Get("Authorization") != "Bearer s3cret" || tgt.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("purge target %+v", tgt)
		}
		body := string(tgt.Body)
		switch {
		case strings.HasPrefix(body, `{"url":"http://www.example.test/obj/`):
			urls++
		case strings.HasPrefix(body, `{"prefix":"http://www.example.test/obj/`):
			prefixes++
		default:
			t.Fatalf("purge body %s", body)
		}
	}
	if urls != 5 || prefixes != 5 {
		t.Fatalf("%d url and %d prefix purges, want 5 of each", urls, prefixes)
	}
	var tgt vegeta.Target
	_ = PurgeTargeter("http://a", "", MixedPurges(ks.URL, z, 1))(&tgt)
	if _, ok := tgt.Header["Authorization"]; ok {
		t.Fatalf("Authorization sent without a token: %v", tgt.Header)
	}
}
