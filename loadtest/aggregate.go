package loadtest

import (
	"cmp"
	"slices"
	"strconv"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Metrics summarises a set of results. Its JSON form matches vegeta's `report -type=json`.
type Metrics struct {
	Latencies   LatencyMetrics `json:"latencies"`
	BytesIn     ByteMetrics    `json:"bytes_in"`
	BytesOut    ByteMetrics    `json:"bytes_out"`
	Earliest    time.Time      `json:"earliest"`
	Latest      time.Time      `json:"latest"`
	End         time.Time      `json:"end"`
	Duration    time.Duration  `json:"duration"` // Latest - Earliest: the attack
	Wait        time.Duration  `json:"wait"`     // End - Latest: draining the last responses
	Requests    uint64         `json:"requests"`
	Rate        float64        `json:"rate"`       // requests per second of Duration
	Throughput  float64        `json:"throughput"` // successes per second of Duration+Wait
	Success     float64        `json:"success"`    // share of codes in 200..399
	StatusCodes map[string]int `json:"status_codes"`
	Errors      []string       `json:"errors"` // distinct, in order of first appearance
}

// LatencyMetrics holds latency statistics. Min, Max and Mean are exact; percentiles come from
// an HDR histogram with 3 significant digits (at most 0.1% high).
type LatencyMetrics struct {
	Total time.Duration `json:"total"`
	Mean  time.Duration `json:"mean"`
	P50   time.Duration `json:"50th"`
	P90   time.Duration `json:"90th"`
	P95   time.Duration `json:"95th"`
	P99   time.Duration `json:"99th"`
	Max   time.Duration `json:"max"`
	Min   time.Duration `json:"min"`
}

// ByteMetrics holds a byte total and its per-request mean.
type ByteMetrics struct {
	Total uint64  `json:"total"`
	Mean  float64 `json:"mean"`
}

// Bucket is one bar of a latency histogram report: requests with Low <= latency < High.
// High is zero for the open-ended last bucket.
type Bucket struct {
	Low, High time.Duration
	Count     uint64
}

// PlotPoint is one request as the HTML plot draws it.
type PlotPoint struct {
	Offset  time.Duration // since the earliest request
	Latency time.Duration
	OK      bool
}

// maxTrackedLatency caps the histogram; slower results are recorded as this value
// (Max stays exact).
const maxTrackedLatency = time.Hour

// Aggregator folds results into Metrics in constant memory, unless points are kept for a plot.
// Not safe for concurrent use.
type Aggregator struct {
	m       Metrics
	codes   map[uint16]int // keyed by number so Add does not format a string per result
	hist    *hdrhistogram.Histogram
	success uint64
	errSeen map[string]bool
	buckets []Bucket
	keep    bool
	points  []rawPoint
}

type rawPoint struct {
	at      time.Time
	latency time.Duration
	ok      bool
}

// AggregatorOptions choose the optional outputs. The zero value computes Metrics only.
type AggregatorOptions struct {
	// Buckets are ascending latency boundaries for a histogram report, e.g. 0, 2ms, 4ms.
	Buckets []time.Duration
	// KeepPoints retains every result's time and latency (24 bytes each) for Points.
	KeepPoints bool
}

// NewAggregator returns an empty aggregator.
func NewAggregator(opts AggregatorOptions) *Aggregator {
	a := &Aggregator{
		hist:    hdrhistogram.New(1, int64(maxTrackedLatency), 3),
		errSeen: map[string]bool{},
		codes:   map[uint16]int{},
		keep:    opts.KeepPoints,
	}
	for i, low := range opts.Buckets {
		b := Bucket{Low: low}
		if i+1 < len(opts.Buckets) {
			b.High = opts.Buckets[i+1]
		}
		a.buckets = append(a.buckets, b)
	}
	return a
}

// Add folds in one result.
func (a *Aggregator) Add(r *Result) {
	m := &a.m
	m.Requests++
	a.codes[r.Code]++
	m.Latencies.Total += r.Latency
	m.BytesIn.Total += r.BytesIn
	m.BytesOut.Total += r.BytesOut
	if m.Requests == 1 || r.Latency < m.Latencies.Min {
		m.Latencies.Min = r.Latency
	}
	m.Latencies.Max = max(m.Latencies.Max, r.Latency)
	_ = a.hist.RecordValue(int64(min(max(r.Latency, 0), maxTrackedLatency)))

	if m.Earliest.IsZero() || r.Timestamp.Before(m.Earliest) {
		m.Earliest = r.Timestamp
	}
	if r.Timestamp.After(m.Latest) {
		m.Latest = r.Timestamp
	}
	if end := r.End(); end.After(m.End) {
		m.End = end
	}
	ok := r.Code >= 200 && r.Code < 400
	if ok {
		a.success++
	}
	if r.Error != "" && !a.errSeen[r.Error] {
		a.errSeen[r.Error] = true
		m.Errors = append(m.Errors, r.Error)
	}
	for i := range a.buckets {
		b := &a.buckets[i]
		if r.Latency >= b.Low && (b.High == 0 || r.Latency < b.High) {
			b.Count++
			break
		}
	}
	if a.keep {
		a.points = append(a.points, rawPoint{at: r.Timestamp, latency: r.Latency, ok: ok})
	}
}

// Metrics computes the summary of everything added so far.
func (a *Aggregator) Metrics() Metrics {
	m := a.m
	m.StatusCodes = make(map[string]int, len(a.codes))
	for code, n := range a.codes {
		m.StatusCodes[strconv.Itoa(int(code))] = n
	}
	m.Errors = slices.Clone(a.m.Errors)
	if m.Errors == nil {
		m.Errors = []string{}
	}
	if m.Requests == 0 {
		return m
	}
	n := float64(m.Requests)
	m.Duration = m.Latest.Sub(m.Earliest)
	m.Wait = m.End.Sub(m.Latest)
	m.Rate = n
	if secs := m.Duration.Seconds(); secs > 0 {
		m.Rate = n / secs
	}
	if secs := (m.Duration + m.Wait).Seconds(); secs > 0 {
		m.Throughput = float64(a.success) / secs
	}
	m.Success = float64(a.success) / n
	m.BytesIn.Mean = float64(m.BytesIn.Total) / n
	m.BytesOut.Mean = float64(m.BytesOut.Total) / n
	m.Latencies.Mean = time.Duration(float64(m.Latencies.Total) / n)
	m.Latencies.P50 = a.percentile(50)
	m.Latencies.P90 = a.percentile(90)
	m.Latencies.P95 = a.percentile(95)
	m.Latencies.P99 = a.percentile(99)
	return m
}

// percentile never reports beyond the exact max: the histogram rounds values up within a bucket.
func (a *Aggregator) percentile(p float64) time.Duration {
	return min(time.Duration(a.hist.ValueAtQuantile(p)), a.m.Latencies.Max)
}

// Buckets returns the histogram report counts for the configured boundaries.
func (a *Aggregator) Buckets() []Bucket { return slices.Clone(a.buckets) }

// Points returns the kept results ordered by time, offsets relative to the earliest one.
func (a *Aggregator) Points() []PlotPoint {
	raw := slices.Clone(a.points)
	slices.SortFunc(raw, func(x, y rawPoint) int { return x.at.Compare(y.at) })
	out := make([]PlotPoint, len(raw))
	for i, p := range raw {
		out[i] = PlotPoint{Offset: p.at.Sub(raw[0].at), Latency: p.latency, OK: p.ok}
	}
	return out
}

func sortedKeys[K cmp.Ordered, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
