package loadtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"math"
	"slices"
	"strings"
	"time"
)

// Plot geometry and limits. Beyond maxScatter points every dot would be a few KiB of SVG that
// nobody can tell apart, so large runs are drawn as per-column percentile lines instead.
const (
	plotWidth, plotHeight = 1000, 460
	plotLeft, plotRight   = 70, 20
	plotTop, plotBottom   = 20, 40
	plotColumns           = 400
	maxScatter            = 5000
)

// PlotColumn summarises the requests due within one time slice of the plot.
type PlotColumn struct {
	Seconds float64 `json:"t"`   // middle of the slice, since the first request
	P50     float64 `json:"p50"` // ms, successful requests only
	P99     float64 `json:"p99"`
	Max     float64 `json:"max"`
	OK      int     `json:"ok"`
	Errors  int     `json:"err"`
}

type plotData struct {
	Title   string       `json:"title"`
	Points  [][3]float64 `json:"points"` // [seconds, latency ms, 1 ok / 0 error]; only for small runs
	Columns []PlotColumn `json:"columns"`
}

// WritePlot writes a self-contained HTML page (inline SVG, no scripts) plotting latency over
// time: every request as a dot for small runs, p50/p99/max lines per time slice for large ones,
// errors in red, on a log scale so tail spikes and the median fit one chart. The data series is
// embedded as JSON (script#series, type application/json) for other tools.
func WritePlot(w io.Writer, title string, m Metrics, points []PlotPoint) error {
	data := plotData{Title: title, Points: [][3]float64{}, Columns: plotColumnsOf(points)}
	if len(points) <= maxScatter {
		for _, p := range points {
			ok := 0.0
			if p.OK {
				ok = 1
			}
			data.Points = append(data.Points, [3]float64{p.Offset.Seconds(), ms(p.Latency), ok})
		}
	}
	series, err := json.Marshal(data) // escapes '<', so the JSON cannot close its script element
	if err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	var report bytes.Buffer
	if err := WriteText(&report, m); err != nil {
		return err
	}

	var b strings.Builder
	t := html.EscapeString(title)
	fmt.Fprintf(&b, "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>%s</title>\n", t)
	b.WriteString("<style>body{font-family:sans-serif;margin:20px}pre{font-size:12px}" +
		".ok{fill:#2e9d3a}.err{fill:#d8383a}.axis{stroke:#444}.grid{stroke:#ddd}" +
		"text{font-size:11px;fill:#333}</style></head><body>\n")
	fmt.Fprintf(&b, "<h2>%s</h2>\n", t)
	writeSVG(&b, data, points)
	fmt.Fprintf(&b, "<pre>%s</pre>\n", html.EscapeString(report.String()))
	fmt.Fprintf(&b, "<script type=\"application/json\" id=\"series\">%s</script>\n</body></html>\n", series)
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	return nil
}

func writeSVG(b *strings.Builder, data plotData, points []PlotPoint) {
	innerW := float64(plotWidth - plotLeft - plotRight)
	innerH := float64(plotHeight - plotTop - plotBottom)
	span := 1.0
	lo, hi := 0.0, 1.0 // log10(ms) range of the y axis
	if len(points) > 0 {
		span = max(points[len(points)-1].Offset.Seconds(), 1e-3)
		minMs, maxMs := math.Inf(1), 0.0
		for _, p := range points {
			v := max(ms(p.Latency), 1e-3)
			minMs, maxMs = min(minMs, v), max(maxMs, v)
		}
		lo, hi = math.Floor(math.Log10(minMs)), math.Ceil(math.Log10(maxMs))
		if hi <= lo {
			hi = lo + 1
		}
	}
	x := func(sec float64) float64 { return plotLeft + sec/span*innerW }
	y := func(msv float64) float64 {
		return plotTop + innerH - (math.Log10(max(msv, 1e-3))-lo)/(hi-lo)*innerH
	}

	fmt.Fprintf(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">\n",
		plotWidth, plotHeight, plotWidth, plotHeight)
	for e := lo; e <= hi; e++ {
		yy := y(math.Pow(10, e))
		fmt.Fprintf(b, "<line class=\"grid\" x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\"/>", plotLeft, plotWidth-plotRight, yy, yy)
		fmt.Fprintf(b, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", plotLeft-6, yy+4,
			time.Duration(math.Pow(10, e)*float64(time.Millisecond)))
	}
	for i := 0; i <= 10; i++ {
		sec := span * float64(i) / 10
		fmt.Fprintf(b, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%.3gs</text>", x(sec), plotHeight-plotBottom+16, sec)
	}
	fmt.Fprintf(b, "\n<line class=\"axis\" x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\"/>", plotLeft, plotWidth-plotRight, plotHeight-plotBottom, plotHeight-plotBottom)
	fmt.Fprintf(b, "<line class=\"axis\" x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\"/>\n", plotLeft, plotLeft, plotTop, plotHeight-plotBottom)
	fmt.Fprintf(b, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">seconds since first request; latency (log scale)</text>\n",
		plotWidth/2, plotHeight-4)

	if len(data.Points) > 0 {
		for _, p := range data.Points {
			class := "err"
			if p[2] == 1 {
				class = "ok"
			}
			fmt.Fprintf(b, "<circle class=\"%s\" cx=\"%.1f\" cy=\"%.1f\" r=\"2\"><title>%.3fs %.3fms</title></circle>\n",
				class, x(p[0]), y(p[1]), p[0], p[1])
		}
	} else {
		for _, line := range []struct {
			color string
			value func(PlotColumn) float64
		}{
			{"#2e9d3a", func(c PlotColumn) float64 { return c.P50 }},
			{"#e39b1b", func(c PlotColumn) float64 { return c.P99 }},
			{"#7a4fb5", func(c PlotColumn) float64 { return c.Max }},
		} {
			var pts []string
			for _, c := range data.Columns {
				if c.OK > 0 {
					pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(c.Seconds), y(line.value(c))))
				}
			}
			fmt.Fprintf(b, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.3\" points=\"%s\"/>\n", line.color, strings.Join(pts, " "))
		}
		for _, c := range data.Columns {
			if c.Errors > 0 {
				fmt.Fprintf(b, "<rect class=\"err\" x=\"%.1f\" y=\"%d\" width=\"2\" height=\"6\"><title>%.3fs: %d errors</title></rect>\n",
					x(c.Seconds), plotTop, c.Seconds, c.Errors)
			}
		}
		fmt.Fprintf(b, "<text x=\"%d\" y=\"%d\"><tspan fill=\"#2e9d3a\">p50</tspan> <tspan fill=\"#e39b1b\">p99</tspan> <tspan fill=\"#7a4fb5\">max</tspan> <tspan fill=\"#d8383a\">errors</tspan></text>\n",
			plotLeft+10, plotTop+14)
	}
	b.WriteString("</svg>\n")
}

// plotColumnsOf slices time into up to plotColumns columns. points must be sorted by Offset.
func plotColumnsOf(points []PlotPoint) []PlotColumn {
	if len(points) == 0 {
		return []PlotColumn{}
	}
	span := points[len(points)-1].Offset
	n := min(plotColumns, len(points))
	width := max(span/time.Duration(n), 1)
	cols := make([]PlotColumn, 0, n)
	var lat []float64
	flush := func(idx int, errs int) {
		c := PlotColumn{Seconds: (time.Duration(idx)*width + width/2).Seconds(), OK: len(lat), Errors: errs}
		if len(lat) > 0 {
			slices.Sort(lat)
			c.P50, c.P99, c.Max = rankOf(lat, 0.50), rankOf(lat, 0.99), lat[len(lat)-1]
		}
		cols = append(cols, c)
		lat = lat[:0]
	}
	cur, errs := 0, 0
	for _, p := range points {
		idx := min(int(p.Offset/width), n-1)
		if idx != cur {
			if len(lat) > 0 || errs > 0 {
				flush(cur, errs)
			}
			cur, errs = idx, 0
		}
		if p.OK {
			lat = append(lat, ms(p.Latency))
		} else {
			errs++
		}
	}
	flush(cur, errs)
	return cols
}

// rankOf is the nearest-rank quantile of sorted values.
func rankOf(sorted []float64, q float64) float64 {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
