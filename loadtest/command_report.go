package loadtest

import (
	"errors"
	"fmt"
	"io"
	"strings"

	vegeta "github.com/tsenart/vegeta/v12/lib"
	"github.com/tsenart/vegeta/v12/lib/plot"
)

const reportUsage = `usage: shoal loadtest report [flags] [FILE ...]

vegeta's report over the results in FILEs ("-" or none: stdin), each gob, JSON or CSV as
written by "shoal loadtest attack" or "vegeta attack"/"vegeta encode":

  -type text                   vegeta's text report (default)
  -type json                   vegeta's JSON metrics (with -buckets, a histogram in it)
  -type 'hist[0,2ms,4ms,8ms]'  latency histogram over these buckets
  -type hdrplot                HDR histogram percentiles, for plotting

flags:
`

const plotUsage = `usage: shoal loadtest plot [flags] [FILE ...]

vegeta's HTML latency-over-time plot of the results in FILEs ("-" or none: stdin).

flags:
`

// parseBuckets reads vegeta's "[0,1ms,10ms]" and, unlike vegeta, rejects bounds that do not
// increase, which would silently put every latency in the wrong bucket.
func parseBuckets(spec string) (vegeta.Buckets, error) {
	var bs vegeta.Buckets
	if err := bs.UnmarshalText([]byte(spec)); err != nil {
		return nil, err
	}
	for i := 1; i < len(bs); i++ {
		if bs[i] <= bs[i-1] {
			return nil, fmt.Errorf("bad buckets %s: %v does not follow %v", spec, bs[i], bs[i-1])
		}
	}
	return bs, nil
}

// files collects the -inputs flag and the arguments; none means stdin.
func files(inputs listFlag, args []string) []string {
	var out []string
	for _, in := range inputs {
		for _, f := range strings.Split(in, ",") {
			if f = strings.TrimSpace(f); f != "" {
				out = append(out, f)
			}
		}
	}
	out = append(out, args...)
	if len(out) == 0 {
		out = []string{"-"}
	}
	return out
}

func runReport(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("report", reportUsage, stderr)
	var inputs listFlag
	fs.Var(&inputs, "inputs", "results file(s), comma-separated or repeated; \"-\" is stdin")
	typ := fs.String("type", "text", "report type: text, json, hist[BUCKETS] or hdrplot")
	buckets := fs.String("buckets", "", "histogram buckets for -type json or hist, e.g. \"[0,1ms,10ms]\"")
	output := fs.String("output", "-", "report file; \"-\" is stdout")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("loadtest report: %w", err)
	}

	var (
		rep vegeta.Reporter
		add func(*vegeta.Result)
		m   vegeta.Metrics
	)
	switch {
	case *typ == "text":
		rep, add = vegeta.NewTextReporter(&m), m.Add
	case *typ == "json":
		if *buckets != "" {
			bs, err := parseBuckets(*buckets)
			if err != nil {
				return fmt.Errorf("loadtest report: -buckets: %w", err)
			}
			m.Histogram = &vegeta.Histogram{Buckets: bs}
		}
		rep, add = vegeta.NewJSONReporter(&m), m.Add
	case *typ == "hdrplot":
		rep, add = vegeta.NewHDRHistogramPlotReporter(&m), m.Add
	case strings.HasPrefix(*typ, "hist"):
		spec := *buckets
		if spec == "" {
			spec = strings.TrimPrefix(*typ, "hist")
		}
		bs, err := parseBuckets(spec)
		if err != nil {
			return fmt.Errorf("loadtest report: -type %s: %w", *typ, err)
		}
		h := &vegeta.Histogram{Buckets: bs}
		rep, add = vegeta.NewHistogramReporter(h), h.Add
	default:
		return fmt.Errorf("loadtest report: -type %q: want text, json, hist[...] or hdrplot", *typ)
	}
	if err := decodeFiles(files(inputs, fs.Args()), stdin, add); err != nil {
		return fmt.Errorf("loadtest report: %w", err)
	}
	m.Close()
	if err := writeOutput(*output, stdout, rep.Report); err != nil {
		return fmt.Errorf("loadtest report: %w", err)
	}
	return nil
}

func runPlot(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("plot", plotUsage, stderr)
	title := fs.String("title", "shoal loadtest", "title of the page")
	threshold := fs.Int("threshold", 4000, "series longer than this are downsampled to it")
	output := fs.String("output", "-", "HTML file; \"-\" is stdout")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("loadtest plot: %w", err)
	}
	p := plot.New(plot.Title(*title), plot.Downsample(*threshold), plot.Label(plot.ErrorLabeler))
	var addErr error
	err := decodeFiles(files(nil, fs.Args()), stdin, func(r *vegeta.Result) {
		if err := p.Add(r); err != nil && addErr == nil {
			addErr = err
		}
	})
	if err = errors.Join(err, addErr); err != nil {
		return fmt.Errorf("loadtest plot: %w", err)
	}
	p.Close()
	err = writeOutput(*output, stdout, func(w io.Writer) error {
		_, err := p.WriteTo(w)
		return err
	})
	if err != nil {
		return fmt.Errorf("loadtest plot: %w", err)
	}
	return nil
}

// decodeFiles feeds every result of every file to add, one file after the other; each
// file's encoding (gob, JSON or CSV) is detected from its first result, as vegeta does.
func decodeFiles(paths []string, stdin io.Reader, add func(*vegeta.Result)) error {
	for _, path := range paths {
		if err := decodeFile(path, stdin, add); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	return nil
}

func decodeFile(path string, stdin io.Reader, add func(*vegeta.Result)) error {
	in, closeIn, err := openInput(path, stdin)
	if err != nil {
		return err
	}
	defer closeIn()
	dec := vegeta.DecoderFor(in)
	if dec == nil {
		return errors.New("not vegeta results (gob, JSON or CSV), or empty")
	}
	for {
		var r vegeta.Result
		err := dec.Decode(&r)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		add(&r)
	}
}

func writeOutput(path string, stdout io.Writer, write func(io.Writer) error) error {
	out, closeOut, err := openOutput(path, stdout)
	if err != nil {
		return fmt.Errorf("-output: %w", err)
	}
	err = write(out)
	if cerr := closeOut(); err == nil && cerr != nil {
		err = fmt.Errorf("-output: %w", cerr)
	}
	return err
}
