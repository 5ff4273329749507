package loadtest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
)

const attackUsage = `usage: shoal loadtest attack [flags]

Sends load and writes one vegeta-compatible JSON result line per request to -output.
With -rate > 0 (open loop) requests are due on a fixed timeline and latency counts from the
due time, so a slow target cannot hide behind a lower request rate; workers are added as
needed up to -max-workers. With -rate 0 (closed loop) -workers send back to back.

Load comes from -targets (vegeta text format) or from -scenario:
  hit          cycle over -keys objects <base><prefix><n>: warm cache hits
  miss         a new URL every request: every request a miss
  zipf         keys drawn from Zipf(-keys, -zipf-s): a realistic hot/cold mix
  stampede     -burst requests for one new key, all due at the same instant
  purge-storm  zipf load plus POST /purge to -purge-admin at -purge-rate
  dns          DNS queries for -dns-name to -dns (rcode mapped to HTTP-like codes)
Repeat -base to spread requests over several nodes (kill one mid-run to test failover).

flags:
`

type attackFlags struct {
	name, targets, output, scenario, prefix, rate string
	duration, timeout                             time.Duration
	workers, maxWorkers, keys, burst, maxBody     int
	keepalive, quiet                              bool
	zipfS, purgeRate                              float64
	headers, bases                                listFlag
	purgeAdmin, purgeTokenFile, runID             string
	dnsAddr, dnsName, dnsType, dnsNet             string
	seed                                          uint64
}

func runAttack(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("attack", attackUsage, stderr)
	var f attackFlags
	fs.StringVar(&f.name, "name", "", "attack name recorded in every result")
	fs.StringVar(&f.targets, "targets", "-", "vegeta text targets file; \"-\" is stdin (ignored with -scenario)")
	fs.StringVar(&f.output, "output", "-", "results file (JSON lines); \"-\" is stdout")
	fs.StringVar(&f.rate, "rate", "50", "requests per second: N, N/s or N/100ms; 0 means closed loop at maximum throughput")
	fs.DurationVar(&f.duration, "duration", 10*time.Second, "how long to schedule requests; 0 runs until interrupted")
	fs.DurationVar(&f.timeout, "timeout", 30*time.Second, "per-request timeout")
	fs.IntVar(&f.workers, "workers", 10, "closed-loop workers, or initial open-loop workers")
	fs.IntVar(&f.maxWorkers, "max-workers", 10000, "open-loop worker cap")
	fs.BoolVar(&f.keepalive, "keepalive", true, "reuse connections")
	fs.Var(&f.headers, "header", "request header \"Name: value\" (repeatable)")
	fs.IntVar(&f.maxBody, "max-body", 0, "response body bytes to keep in results; -1 keeps all")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress line or summary on stderr")
	fs.StringVar(&f.scenario, "scenario", "", "hit, miss, zipf, stampede, purge-storm or dns")
	fs.Var(&f.bases, "base", "base URL for scenarios, e.g. http://127.0.0.1:8080 (repeatable)")
	fs.StringVar(&f.prefix, "prefix", "/obj/", "path between base and key in scenario URLs")
	fs.IntVar(&f.keys, "keys", 1000, "number of distinct keys for hit, zipf and purge-storm")
	fs.Float64Var(&f.zipfS, "zipf-s", 1.0, "Zipf exponent (> 0)")
	fs.IntVar(&f.burst, "burst", 50, "simultaneous requests per key in stampede")
	fs.Uint64Var(&f.seed, "seed", 1, "seed for key choice, so runs are repeatable")
	fs.StringVar(&f.runID, "run-id", "", "tag making miss/stampede URLs unique; default derived from the time")
	fs.StringVar(&f.purgeAdmin, "purge-admin", "", "admin API base URL for purge-storm")
	fs.StringVar(&f.purgeTokenFile, "purge-token-file", "", "file holding the purge bearer token")
	fs.Float64Var(&f.purgeRate, "purge-rate", 5, "purges per second in purge-storm")
	fs.StringVar(&f.dnsAddr, "dns", "", "DNS server host:port for the dns scenario")
	fs.StringVar(&f.dnsName, "dns-name", "", "name queried by the dns scenario")
	fs.StringVar(&f.dnsType, "dns-type", "A", "query type for the dns scenario")
	fs.StringVar(&f.dnsNet, "dns-net", "udp", "udp or tcp for the dns scenario")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("loadtest attack: %w", err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("loadtest attack: unexpected argument %q", fs.Arg(0))
	}
	if err := f.run(ctx, stdin, stdout, stderr); err != nil {
		return fmt.Errorf("loadtest attack: %w", err)
	}
	return nil
}

func (f *attackFlags) run(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer) error {
	rate, err := parseRate(f.rate)
	if err != nil {
		return fmt.Errorf("-rate: %w", err)
	}
	header, err := parseHeaders(f.headers)
	if err != nil {
		return err
	}
	if f.runID == "" {
		f.runID = strconv.FormatInt(time.Now().UnixNano(), 36)
	}
	cfg := AttackConfig{Name: f.name, Duration: f.duration, Workers: f.workers, MaxWorkers: f.maxWorkers}
	if rate > 0 {
		cfg.Pacer = ConstantPacer{Rate: rate}
		if f.scenario == "stampede" {
			cfg.Pacer = BurstPacer{Rate: rate, Burst: f.burst}
		}
	}
	hitter, storm, err := f.buildLoad(stdin, header)
	if err != nil {
		return err
	}
	attacker, err := NewAttacker(cfg)
	if err != nil {
		return err
	}

	out, closeOut, err := openOutput(f.output, stdout)
	if err != nil {
		return fmt.Errorf("-output: %w", err)
	}
	enc := NewResultEncoder(out)
	var writeErr error
	sink := func(r *Result) {
		if writeErr == nil {
			writeErr = enc.Encode(r)
		}
	}

	attackCtx, stopStorm := context.WithCancel(ctx)
	stormDone := make(chan PurgeStats, 1)
	if storm != nil {
		go func() { stormDone <- storm.Run(attackCtx) }()
	}
	stopProgress := func() {}
	if !f.quiet {
		stopProgress = runProgress(stderr, time.Second, attacker.Progress)
	}
	sum := attacker.Attack(ctx, hitter, sink)
	stopStorm()
	stopProgress()
	if c, ok := hitter.(interface{ Close() }); ok {
		c.Close()
	}

	if err := enc.Flush(); writeErr == nil {
		writeErr = err
	}
	if err := closeOut(); writeErr == nil && err != nil {
		writeErr = fmt.Errorf("-output: %w", err)
	}
	if !f.quiet {
		note := ""
		if sum.Interrupted {
			note = " (interrupted)"
		}
		fmt.Fprintf(stderr, "attack %q: %d requests, %d errors, %d workers%s\n", f.name, sum.Requests, sum.Errors, sum.Workers, note)
	}
	if storm != nil {
		stats := <-stormDone
		if !f.quiet {
			fmt.Fprintln(stderr, stats.String())
		}
	}
	return writeErr
}

// buildLoad turns the flags into a Hitter, plus a purge storm for the purge-storm scenario.
func (f *attackFlags) buildLoad(stdin io.Reader, header http.Header) (Hitter, *PurgeStorm, error) {
	httpCfg := HTTPConfig{
		Timeout: f.timeout, DisableKeepAlive: !f.keepalive, Header: header, MaxBody: f.maxBody,
		MaxConnsPerHost: f.maxWorkers,
	}
	if f.scenario == "" {
		in, closeIn, err := openInput(f.targets, stdin)
		if err != nil {
			return nil, nil, fmt.Errorf("-targets: %w", err)
		}
		defer closeIn()
		opts := ParseOptions{}
		if f.targets != "-" {
			opts.BaseDir = filepath.Dir(f.targets)
		}
		targets, err := ParseTargets(in, opts)
		if err != nil {
			return nil, nil, err
		}
		return NewHTTPHitter(httpCfg, StaticTargets(targets)), nil, nil
	}
	if f.scenario == "dns" {
		typ, ok := dns.StringToType[strings.ToUpper(f.dnsType)]
		if !ok {
			return nil, nil, fmt.Errorf("-dns-type: unknown type %q", f.dnsType)
		}
		h, err := NewDNSHitter(DNSConfig{Addr: f.dnsAddr, Name: f.dnsName, Type: typ, Net: f.dnsNet, Timeout: f.timeout})
		return h, nil, err
	}

	if len(f.bases) == 0 {
		return nil, nil, fmt.Errorf("-scenario %s needs at least one -base URL", f.scenario)
	}
	for _, b := range f.bases {
		if err := checkTargetURL(b); err != nil {
			return nil, nil, fmt.Errorf("-base: %w", err)
		}
	}
	if f.keys <= 0 {
		return nil, nil, fmt.Errorf("-keys must be positive, got %d", f.keys)
	}
	ks := KeySpace{Bases: f.bases, Prefix: f.prefix}
	var targets TargetFunc
	var storm *PurgeStorm
	switch f.scenario {
	case "hit":
		targets = HitTargets(ks, f.keys)
	case "miss":
		targets = MissTargets(ks, f.runID)
	case "stampede":
		if f.burst <= 0 {
			return nil, nil, fmt.Errorf("-burst must be positive, got %d", f.burst)
		}
		targets = StampedeTargets(ks, f.burst, f.runID)
	case "zipf", "purge-storm":
		z, err := NewZipf(f.keys, f.zipfS)
		if err != nil {
			return nil, nil, fmt.Errorf("-zipf-s/-keys: %w", err)
		}
		targets = ZipfTargets(ks, z, f.seed)
		if f.scenario == "purge-storm" {
			if storm, err = f.buildStorm(ks, header, z); err != nil {
				return nil, nil, err
			}
		}
	default:
		return nil, nil, fmt.Errorf("-scenario %q: want hit, miss, zipf, stampede, purge-storm or dns", f.scenario)
	}
	return NewHTTPHitter(httpCfg, targets), storm, nil
}

func (f *attackFlags) buildStorm(ks KeySpace, header http.Header, z *Zipf) (*PurgeStorm, error) {
	if f.purgeAdmin == "" {
		return nil, fmt.Errorf("-scenario purge-storm needs -purge-admin")
	}
	var token string
	if f.purgeTokenFile != "" {
		raw, err := os.ReadFile(f.purgeTokenFile)
		if err != nil {
			return nil, fmt.Errorf("-purge-token-file: %w", err)
		}
		token = strings.TrimSpace(string(raw))
	}
	// The cache keys a purge names carry the virtual host the load presents, not the node's.
	purgeKeys := ks
	if host := headerValueFold(header, "Host"); host != "" {
		u, _ := url.Parse(ks.Bases[0]) // validated by buildLoad
		u.Host = host
		purgeKeys.Bases = []string{u.String()}
	}
	return NewPurgeStorm(PurgeStormConfig{Admin: f.purgeAdmin, Token: token, Rate: f.purgeRate, Timeout: f.timeout},
		MixedPurges(purgeKeys.URL, z, f.seed))
}

// parseRate reads "N", "N/s" or "N/<duration>" into requests per second.
func parseRate(s string) (float64, error) {
	num, per, hasPer := strings.Cut(s, "/")
	n, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("bad rate %q: want N, N/s or N/100ms with N >= 0", s)
	}
	if !hasPer {
		return n, nil
	}
	per = strings.TrimSpace(per)
	if per == "s" || per == "" {
		return n, nil
	}
	if !strings.ContainsAny(per[:1], "0123456789") {
		per = "1" + per
	}
	d, err := time.ParseDuration(per)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("bad rate period %q", per)
	}
	return n / d.Seconds(), nil
}

func parseHeaders(lines []string) (http.Header, error) {
	h := http.Header{}
	for _, line := range lines {
		name, value, err := splitHeader(line)
		if err != nil {
			return nil, fmt.Errorf("-header: %w", err)
		}
		h[name] = append(h[name], value)
	}
	return h, nil
}
