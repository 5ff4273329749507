package loadtest

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

const reportUsage = `usage: shoal loadtest report [flags] [FILE ...]

Reads JSON-lines results (ours or vegeta's "-format json"/"vegeta encode" output) from -inputs
and FILE arguments ("-" or nothing: stdin) and writes one report over all of them.

  -type text          vegeta's text report (default)
  -type json          vegeta's JSON metrics object
  -type 'hist[0,2ms,4ms,8ms]'  latency histogram over these buckets
  -type plot          self-contained HTML latency-over-time page (use with -output FILE.html)

flags:
`

func runReport(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("report", reportUsage, stderr)
	var inputs listFlag
	fs.Var(&inputs, "inputs", "results file(s), comma-separated or repeated; \"-\" is stdin")
	typ := fs.String("type", "text", "report type: text, json, hist[BUCKETS] or plot")
	output := fs.String("output", "-", "report file; \"-\" is stdout")
	title := fs.String("title", "shoal loadtest", "page title for -type plot")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("loadtest report: %w", err)
	}
	var files []string
	for _, in := range inputs {
		for _, f := range strings.Split(in, ",") {
			if f = strings.TrimSpace(f); f != "" {
				files = append(files, f)
			}
		}
	}
	files = append(files, fs.Args()...)
	if len(files) == 0 {
		files = []string{"-"}
	}

	var opts AggregatorOptions
	switch {
	case *typ == "text" || *typ == "json":
	case *typ == "plot":
		opts.KeepPoints = true
	case strings.HasPrefix(*typ, "hist["):
		buckets, err := ParseHistBuckets(*typ)
		if err != nil {
			return fmt.Errorf("loadtest report: -type: %w", err)
		}
		opts.Buckets = buckets
	default:
		return fmt.Errorf("loadtest report: -type %q: want text, json, hist[...] or plot", *typ)
	}

	agg := NewAggregator(opts)
	for _, f := range files {
		if err := aggregateFile(agg, f, stdin); err != nil {
			return fmt.Errorf("loadtest report: %s: %w", f, err)
		}
	}

	out, closeOut, err := openOutput(*output, stdout)
	if err != nil {
		return fmt.Errorf("loadtest report: -output: %w", err)
	}
	switch {
	case *typ == "text":
		err = WriteText(out, agg.Metrics())
	case *typ == "json":
		err = WriteJSON(out, agg.Metrics())
	case *typ == "plot":
		err = WritePlot(out, *title, agg.Metrics(), agg.Points())
	default:
		err = WriteHist(out, agg.Buckets())
	}
	if cerr := closeOut(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("loadtest report: %w", err)
	}
	return nil
}

func aggregateFile(agg *Aggregator, path string, stdin io.Reader) error {
	in, closeIn, err := openInput(path, stdin)
	if err != nil {
		return err
	}
	defer closeIn()
	dec := NewResultDecoder(in)
	var res Result
	for {
		err := dec.Decode(&res)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		agg.Add(&res)
	}
}
