package loadtest

import (
	"bytes"
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// knownResults: latencies 1ms..100ms, one request every 10ms; every tenth one a 500.
func knownResults() []Result {
	var rs []Result
	for i := 1; i <= 100; i++ {
		r := Result{Seq: uint64(i - 1), Code: 200, Timestamp: t0.Add(time.Duration(i-1) * 10 * time.Millisecond),
			Latency: time.Duration(i) * time.Millisecond, BytesIn: 100, BytesOut: 10}
		if i%10 == 0 {
			r.Code, r.Error = 500, "500 Internal Server Error"
		}
		rs = append(rs, r)
	}
	rs[3].Code, rs[3].Error = 0, "dial tcp: connection refused"
	return rs
}

func TestAggregator_PercentilesOfKnownLatencies(t *testing.T) {
	agg := NewAggregator(AggregatorOptions{})
	// Feed in reverse to show order does not matter.
	rs := knownResults()
	for i := len(rs) - 1; i >= 0; i-- {
		agg.Add(&rs[i])
	}
	m := agg.Metrics()
	near := func(name string, got, want time.Duration) {
		t.Helper()
		// HDR with 3 significant digits may round up by at most 0.1%.
		if got < want || float64(got-want) > 0.001*float64(want) {
			t.Errorf("%s = %v, want %v (+0.1%%)", name, got, want)
		}
	}
	near("p50", m.Latencies.P50, 50*time.Millisecond)
	near("p90", m.Latencies.P90, 90*time.Millisecond)
	near("p95", m.Latencies.P95, 95*time.Millisecond)
	near("p99", m.Latencies.P99, 99*time.Millisecond)
	exact := []struct {
		name      string
		got, want any
	}{
		{"min", m.Latencies.Min, time.Millisecond},
		{"max", m.Latencies.Max, 100 * time.Millisecond},
		{"mean", m.Latencies.Mean, 50500 * time.Microsecond},
		{"total", m.Latencies.Total, 5050 * time.Millisecond},
		{"requests", m.Requests, uint64(100)},
		{"duration", m.Duration, 990 * time.Millisecond},
		{"wait", m.Wait, 100 * time.Millisecond},
		{"success", m.Success, 0.89},
		{"bytes in", m.BytesIn, ByteMetrics{Total: 10000, Mean: 100}},
		{"bytes out", m.BytesOut, ByteMetrics{Total: 1000, Mean: 10}},
		{"codes", m.StatusCodes, map[string]int{"0": 1, "200": 89, "500": 10}},
		{"errors", m.Errors, []string{"500 Internal Server Error", "dial tcp: connection refused"}},
		{"rate", m.Rate, 100 / 0.99},
		{"throughput", m.Throughput, 89 / 1.09},
	}
	for _, e := range exact {
		if !reflect.DeepEqual(e.got, e.want) {
			if g, ok := e.got.(float64); ok && abs(g-e.want.(float64)) < 1e-9 {
				continue
			}
			t.Errorf("%s = %v, want %v", e.name, e.got, e.want)
		}
	}
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

func TestAggregator_EmptyAndHuge(t *testing.T) {
	agg := NewAggregator(AggregatorOptions{})
	if m := agg.Metrics(); m.Requests != 0 || m.Errors == nil || m.Success != 0 {
		t.Fatalf("empty metrics %+v", m)
	}
	agg.Add(&Result{Code: 200, Latency: 3 * time.Hour, Timestamp: t0})
	if m := agg.Metrics(); m.Latencies.Max != 3*time.Hour || m.Latencies.P99 > 3*time.Hour || m.Latencies.P99 < time.Hour {
		t.Fatalf("latency beyond the histogram range: %+v", m.Latencies)
	}
}

func TestWriteText_VegetaLayout(t *testing.T) {
	agg := NewAggregator(AggregatorOptions{})
	rs := knownResults()
	for i := range rs {
		agg.Add(&rs[i])
	}
	var buf bytes.Buffer
	if err := WriteText(&buf, agg.Metrics()); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(buf.String(), "\n")
	want := []string{
		"Requests      [total, rate, throughput]         100, 101.01, 81.65",
		"Duration      [total, attack, wait]             1.09s, 990ms, 100ms",
		"Latencies     [min, mean, 50, 90, 95, 99, max]  1ms, 50.5ms, 50.004ms, 90.046ms, 95.027ms, 99.025ms, 100ms",
		"Bytes In      [total, mean]                     10000, 100.00",
		"Bytes Out     [total, mean]                     1000, 10.00",
		"Success       [ratio]                           89.00%",
		"Status Codes  [code:count]                      0:1  200:89  500:10  ",
		"Error Set:",
		"dial tcp: connection refused",
		"500 Internal Server Error",
	}
	for i, w := range want {
		if i >= len(lines) || lines[i] != w {
			t.Fatalf("line %d:\n got %q\nwant %q\nreport:\n%s", i, lines[min(i, len(lines)-1)], w, buf.String())
		}
	}
}

func TestWriteJSON_VegetaKeys(t *testing.T) {
	agg := NewAggregator(AggregatorOptions{})
	rs := knownResults()
	for i := range rs {
		agg.Add(&rs[i])
	}
	var buf bytes.Buffer
	if err := WriteJSON(&buf, agg.Metrics()); err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	want := []string{"bytes_in", "bytes_out", "duration", "earliest", "end", "errors", "latencies", "latest",
		"rate", "requests", "status_codes", "success", "throughput", "wait"}
	if !reflect.DeepEqual(keys, want) {
		t.Fatalf("keys %v, want %v", keys, want)
	}
	var lat map[string]int64
	_ = json.Unmarshal(m["latencies"], &lat)
	if lat["max"] != int64(100*time.Millisecond) || lat["min"] != int64(time.Millisecond) || lat["50th"] == 0 || lat["99th"] == 0 {
		t.Fatalf("latencies %v", lat)
	}
}

func TestHistogram_BucketsAndParse(t *testing.T) {
	buckets, err := ParseHistBuckets("hist[0, 10ms,50ms,90ms]")
	if err != nil {
		t.Fatal(err)
	}
	agg := NewAggregator(AggregatorOptions{Buckets: buckets})
	rs := knownResults()
	for i := range rs {
		agg.Add(&rs[i])
	}
	got := agg.Buckets()
	want := []Bucket{
		{0, 10 * time.Millisecond, 9},
		{10 * time.Millisecond, 50 * time.Millisecond, 40},
		{50 * time.Millisecond, 90 * time.Millisecond, 40},
		{90 * time.Millisecond, 0, 11},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("buckets %v, want %v", got, want)
	}
	var buf bytes.Buffer
	if err := WriteHist(&buf, got); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, w := range []string{"Bucket", "[0s,", "10ms]", "40.00%", "[90ms,", "+Inf]", strings.Repeat("#", 30)} {
		if !strings.Contains(out, w) {
			t.Fatalf("histogram lacks %q:\n%s", w, out)
		}
	}
	for _, bad := range []string{"hist[", "hist[]", "hist[5ms,1ms]", "hist[1ms,1ms]", "hist[x]", "buckets[1ms]", "hist[1ms", "0,1ms]"} {
		if _, err := ParseHistBuckets(bad); err == nil {
			t.Errorf("ParseHistBuckets(%q) succeeded", bad)
		}
	}
}
