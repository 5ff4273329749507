package loadtest

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"
)

func plotSeries(t *testing.T, page string) plotData {
	t.Helper()
	m := regexp.MustCompile(`(?s)<script type="application/json" id="series">(.*?)</script>`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("page has no data series")
	}
	var d plotData
	if err := json.Unmarshal([]byte(m[1]), &d); err != nil {
		t.Fatalf("series is not JSON: %v", err)
	}
	return d
}

func TestWritePlot_SmallRunHasEveryPoint(t *testing.T) {
	agg := NewAggregator(AggregatorOptions{KeepPoints: true})
	rs := knownResults()
	for i := range rs {
		agg.Add(&rs[i])
	}
	var buf bytes.Buffer
	if err := WritePlot(&buf, "run <1> & co", agg.Metrics(), agg.Points()); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, want := range []string{"<!doctype html>", "<svg", "<title>run &lt;1&gt; &amp; co</title>", `class="err"`, `class="ok"`, "Latencies"} {
		if !strings.Contains(page, want) {
			t.Fatalf("page lacks %q", want)
		}
	}
	if strings.Contains(page, "<script src") || strings.Contains(page, "<link") || strings.Contains(page, "run <1>") {
		t.Fatal("page must be self-contained and escape the title")
	}
	if n := strings.Count(page, "<circle"); n != len(rs) {
		t.Fatalf("%d dots for %d results", n, len(rs))
	}
	d := plotSeries(t, page)
	if d.Title != "run <1> & co" || len(d.Points) != len(rs) {
		t.Fatalf("series title %q with %d points", d.Title, len(d.Points))
	}
	// Points are ordered by time; knownResults are 10ms apart with latency (i+1) ms.
	for i, p := range d.Points {
		wantOK := 1.0
		if rs[i].Code != 200 {
			wantOK = 0
		}
		if abs(p[0]-float64(i)*0.01) > 1e-9 || abs(p[1]-float64(i+1)) > 1e-9 || p[2] != wantOK {
			t.Fatalf("point %d = %v", i, p)
		}
	}
}

func TestWritePlot_LargeRunIsSummarisedPerColumn(t *testing.T) {
	agg := NewAggregator(AggregatorOptions{KeepPoints: true})
	const n = maxScatter * 2
	for i := 0; i < n; i++ {
		r := Result{Code: 200, Timestamp: t0.Add(time.Duration(i) * time.Millisecond), Latency: time.Duration(1+i%10) * time.Millisecond}
		if i%1000 == 0 {
			r.Code = 0
		}
		agg.Add(&r)
	}
	var buf bytes.Buffer
	if err := WritePlot(&buf, "big", agg.Metrics(), agg.Points()); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	if strings.Contains(page, "<circle") || strings.Count(page, "<polyline") != 3 {
		t.Fatal("large runs must be drawn as p50/p99/max lines")
	}
	d := plotSeries(t, page)
	if len(d.Points) != 0 || len(d.Columns) != plotColumns {
		t.Fatalf("%d points, %d columns", len(d.Points), len(d.Columns))
	}
	var ok, errs int
	for _, c := range d.Columns {
		ok += c.OK
		errs += c.Errors
		if c.OK > 0 && (c.P50 < 1 || c.P99 < c.P50 || c.Max < c.P99 || c.Max > 10) {
			t.Fatalf("column %+v", c)
		}
	}
	if ok+errs != n || errs != n/1000 {
		t.Fatalf("columns hold %d ok + %d errors, want %d with %d errors", ok, errs, n, n/1000)
	}
}

func TestWritePlot_Empty(t *testing.T) {
	var buf bytes.Buffer
	if err := WritePlot(&buf, "empty", NewAggregator(AggregatorOptions{}).Metrics(), nil); err != nil {
		t.Fatal(err)
	}
	if d := plotSeries(t, buf.String()); len(d.Points) != 0 || len(d.Columns) != 0 {
		t.Fatalf("series %+v", d)
	}
}
