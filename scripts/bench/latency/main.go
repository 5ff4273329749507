// Command latency is make bench's open-loop latency probe: one fixed-rate attack on one
// target through the loadtest library (vegeta's attacker), measured from each request's
// scheduled time so a stalled target cannot hide its stall (no coordinated omission).
// A short unmeasured warm-up at the same rate opens the connections first. It prints one
// tab-separated line for run.sh:
//
//	p50_ms p99_ms p999_ms success requests sent_per_s errors
//
// success is vegeta's ratio of 2xx/3xx responses (0..1); sent_per_s is requests over the
// attack's wall time, so a loader that fell behind the asked -rate shows. Exit status 1 on
// a bad flag or a failed attack; failed requests are counted, not fatal.
//
// Usage: latency -base http://127.0.0.1:18304 -scenario hit|zipf [flags]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/shoal-cdn/shoal/loadtest"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "latency:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("latency", flag.ContinueOnError)
	base := fs.String("base", "", "target base URL, e.g. http://127.0.0.1:18304 (required)")
	scenario := fs.String("scenario", "hit", "hit: -path again and again; zipf: <base><-prefix><rank>, rank from Zipf(-keys, -zipf-s)")
	path := fs.String("path", "/1k.bin", "the URL path of the hit scenario")
	prefix := fs.String("prefix", "/fill/", "what goes between base and key in the zipf scenario")
	keys := fs.Int("keys", 100000, "distinct keys of the zipf scenario: ranks 0..keys-1")
	zipfS := fs.Float64("zipf-s", 0.9, "Zipf exponent (> 0)")
	seed := fs.Uint64("seed", 1, "seed of the zipf draws: the same seed gives every target the same URLs")
	rate := fs.Int("rate", 5000, "requests per second, fixed (open loop)")
	duration := fs.Duration("duration", 5*time.Second, "length of the schedule")
	conns := fs.Int("connections", 64, "keep-alive connections and in-flight requests at most (vegeta workers)")
	timeout := fs.Duration("timeout", 10*time.Second, "per-request timeout; a timed-out request is a failure")
	warmup := fs.Duration("warmup", 500*time.Millisecond, "unmeasured run at the same rate first, on the same connections; 0 for none")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *base == "" {
		return errors.New("-base is required")
	}
	if *rate <= 0 || *conns <= 0 || *duration <= 0 {
		return errors.New("-rate, -connections and -duration must be above 0")
	}

	var targeter func(seed uint64) vegeta.Targeter
	switch *scenario {
	case "hit":
		targeter = func(uint64) vegeta.Targeter {
			return vegeta.NewStaticTargeter(vegeta.Target{Method: http.MethodGet, URL: *base + *path})
		}
	case "zipf":
		z, err := loadtest.NewZipf(*keys, *zipfS)
		if err != nil {
			return fmt.Errorf("-keys/-zipf-s: %w", err)
		}
		ks := loadtest.KeySpace{Bases: []string{*base}, Prefix: *prefix}
		targeter = func(seed uint64) vegeta.Targeter { return loadtest.ZipfTargeter(ks, z, seed) }
	default:
		return fmt.Errorf("-scenario %q: want hit or zipf", *scenario)
	}

	// The worker cap is wrk's connection count: at most -connections requests in flight on as
	// many keep-alive connections. A request due while all are busy waits, and FromSchedule
	// counts that wait as latency. No Accept-Encoding, like wrk: every target sends the same
	// identity bodies.
	client := &http.Client{Transport: &http.Transport{
		DialContext:         (&net.Dialer{KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost: *conns,
		MaxConnsPerHost:     *conns,
		DisableCompression:  true,
	}}
	n := uint64(*conns)
	cfg := loadtest.Config{
		Name:         *scenario,
		Pacer:        loadtest.PerSecond(*rate),
		Duration:     *duration,
		Workers:      n,
		MaxWorkers:   n,
		FromSchedule: true,
		Options: []func(*vegeta.Attacker){
			vegeta.Client(client), // first: the options below adjust its transport
			vegeta.KeepAlive(true),
			vegeta.Timeout(*timeout),
			vegeta.MaxBody(0), // bodies are read and dropped, not kept in memory
		},
	}
	// A discarded warm-up at the same rate opens the connections and grows both sides' buffers,
	// so connection setup is not what the measured run's tail shows.
	if *warmup > 0 {
		w := cfg
		w.Duration = *warmup
		if _, err := loadtest.Run(context.Background(), w, targeter(*seed+1)); err != nil {
			return fmt.Errorf("warm-up on %s: %w", *base, err)
		}
	}
	start := time.Now()
	m, err := loadtest.Run(context.Background(), cfg, targeter(*seed))
	elapsed := time.Since(start)
	if err != nil {
		return fmt.Errorf("attack on %s: %w", *base, err)
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	// vegeta's Rate comes from the results' timestamps, which FromSchedule sets to the due
	// times, so it always equals -rate; the wall clock shows a loader that fell behind.
	sent := float64(m.Requests) / elapsed.Seconds()
	failed := m.Requests - uint64(m.Success*float64(m.Requests)+0.5)
	_, err = fmt.Fprintf(stdout, "%.3f\t%.3f\t%.3f\t%.4f\t%d\t%.0f\t%d\n",
		ms(m.Latencies.P50), ms(m.Latencies.P99), ms(m.Latencies.Quantile(0.999)),
		m.Success, m.Requests, sent, failed)
	return err
}
