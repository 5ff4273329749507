package loadtest

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteText writes m in vegeta's text report layout, so scripts that scrape vegeta reports
// read ours too.
func WriteText(w io.Writer, m Metrics) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', tabwriter.StripEscape)
	l := m.Latencies
	fmt.Fprintf(tw, "Requests\t[total, rate, throughput]\t%d, %.2f, %.2f\n", m.Requests, m.Rate, m.Throughput)
	fmt.Fprintf(tw, "Duration\t[total, attack, wait]\t%s, %s, %s\n",
		roundDuration(m.Duration+m.Wait), roundDuration(m.Duration), roundDuration(m.Wait))
	fmt.Fprintf(tw, "Latencies\t[min, mean, 50, 90, 95, 99, max]\t%s, %s, %s, %s, %s, %s, %s\n",
		roundDuration(l.Min), roundDuration(l.Mean), roundDuration(l.P50), roundDuration(l.P90),
		roundDuration(l.P95), roundDuration(l.P99), roundDuration(l.Max))
	fmt.Fprintf(tw, "Bytes In\t[total, mean]\t%d, %.2f\n", m.BytesIn.Total, m.BytesIn.Mean)
	fmt.Fprintf(tw, "Bytes Out\t[total, mean]\t%d, %.2f\n", m.BytesOut.Total, m.BytesOut.Mean)
	fmt.Fprintf(tw, "Success\t[ratio]\t%.2f%%\n", m.Success*100)
	fmt.Fprintf(tw, "Status Codes\t[code:count]\t")
	for _, code := range sortedCodes(m.StatusCodes) {
		fmt.Fprintf(tw, "%s:%d  ", code, m.StatusCodes[code])
	}
	fmt.Fprintln(tw, "\nError Set:")
	for _, e := range m.Errors {
		fmt.Fprintln(tw, e)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// WriteJSON writes m as one JSON object, as vegeta's `report -type=json` does.
func WriteJSON(w io.Writer, m Metrics) error {
	if err := json.NewEncoder(w).Encode(m); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// WriteHist writes a text bar chart of latency buckets, in vegeta's `hist[...]` layout.
func WriteHist(w io.Writer, buckets []Bucket) error {
	var total uint64
	for _, b := range buckets {
		total += b.Count
	}
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', tabwriter.StripEscape)
	fmt.Fprintf(tw, "Bucket\t\t#\t%%\tHistogram\n")
	for _, b := range buckets {
		ratio := 0.0
		if total > 0 {
			ratio = float64(b.Count) / float64(total)
		}
		high := "+Inf"
		if b.High > 0 {
			high = b.High.String()
		}
		fmt.Fprintf(tw, "[%s,\t%s]\t%d\t%.2f%%\t%s\n", b.Low, high, b.Count, ratio*100,
			strings.Repeat("#", int(ratio*75)))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// ParseHistBuckets reads the boundaries of "hist[0,2ms,4ms,6ms]": Go durations ("0" allowed),
// strictly ascending.
func ParseHistBuckets(spec string) ([]time.Duration, error) {
	inner, prefixed := strings.CutPrefix(spec, "hist[")
	inner, suffixed := strings.CutSuffix(inner, "]")
	if !prefixed || !suffixed {
		return nil, fmt.Errorf("report: bad histogram %q: want hist[0,2ms,4ms]", spec)
	}
	var out []time.Duration
	for _, field := range strings.Split(inner, ",") {
		field = strings.TrimSpace(field)
		d, err := time.ParseDuration(field)
		if field == "0" {
			d, err = 0, nil
		}
		if err != nil {
			return nil, fmt.Errorf("report: bad histogram bucket %q: %w", field, err)
		}
		if len(out) > 0 && d <= out[len(out)-1] {
			return nil, fmt.Errorf("report: histogram buckets must ascend: %s after %s", d, out[len(out)-1])
		}
		out = append(out, d)
	}
	return out, nil
}

// roundDuration keeps about four significant digits, as vegeta prints them (1.257ms, 30.001s).
func roundDuration(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(time.Microsecond)
	default:
		return d
	}
}

// sortedCodes orders status codes numerically.
func sortedCodes(codes map[string]int) []string {
	keys := sortedKeys(codes)
	num := func(s string) int { n, _ := strconv.Atoi(s); return n }
	slices.SortStableFunc(keys, func(a, b string) int { return cmp.Compare(num(a), num(b)) })
	return keys
}
