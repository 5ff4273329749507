package loadtest

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/shoal-cdn/shoal/conf"
)

const attackUsage = `usage: shoal loadtest attack [flags]

vegeta's attack with Shoal's scenarios: writes one vegeta result per request to -output
(gob like "vegeta attack", or -encoding json|csv), which "vegeta report" and
"shoal loadtest report" both read. Requests are due on a fixed timeline at -rate; vegeta adds
workers when all are busy (up to -max-workers, unlimited by default), so a slow target does
not lower the rate sent. vegeta measures latency from when a request is sent; -from-schedule
measures from when it was due, so time spent waiting for a worker counts (no coordinated
omission). -rate 0 sends as fast as -max-workers workers can (closed loop).

Load comes from -targets (vegeta's http or json target format) or from -scenario:
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
	name, targets, format, output, encoding, scenario, prefix, rate string
	duration, timeout                                               time.Duration
	workers, maxWorkers                                             uint64
	keys, burst, redirects                                          int
	maxBody                                                         int64
	keepalive, fromSchedule, insecure                               bool
	zipfS                                                           float64
	headers, bases                                                  listFlag
	purgeAdmin, purgeTokenFile, purgeRate, runID                    string
	dnsAddr, dnsName, dnsType, dnsNet                               string
	seed                                                            uint64
}

func runAttack(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("attack", attackUsage, stderr)
	var f attackFlags
	fs.StringVar(&f.name, "name", "", "attack name recorded in every result")
	fs.StringVar(&f.targets, "targets", "-", "targets file; \"-\" is stdin (ignored with -scenario)")
	fs.StringVar(&f.format, "format", vegeta.HTTPTargetFormat, "targets format: http or json (vegeta's)")
	fs.StringVar(&f.output, "output", "-", "results file; \"-\" is stdout")
	fs.StringVar(&f.encoding, "encoding", "gob", "results encoding: gob, json or csv (vegeta's)")
	fs.StringVar(&f.rate, "rate", "50", "requests per time unit: N, N/s or N/100ms; 0 means unpaced (needs -max-workers)")
	fs.DurationVar(&f.duration, "duration", 10*time.Second, "how long to attack; 0 runs until interrupted")
	fs.DurationVar(&f.timeout, "timeout", vegeta.DefaultTimeout, "per-request timeout")
	fs.Uint64Var(&f.workers, "workers", vegeta.DefaultWorkers, "initial workers")
	fs.Uint64Var(&f.maxWorkers, "max-workers", 0, "worker cap; 0 means unlimited")
	fs.BoolVar(&f.keepalive, "keepalive", true, "reuse connections")
	fs.IntVar(&f.redirects, "redirects", vegeta.DefaultRedirects, "redirects to follow; -1 records the redirect itself")
	fs.BoolVar(&f.insecure, "insecure", false, "accept any TLS certificate (a test node's self-signed one)")
	fs.Var(&f.headers, "header", "request header \"Name: value\" (repeatable)")
	fs.Int64Var(&f.maxBody, "max-body", vegeta.DefaultMaxBody, "response body bytes kept in results (and counted as bytes in, by vegeta's rule); -1 keeps all")
	fs.BoolVar(&f.fromSchedule, "from-schedule", false, "measure latency from when each request was due, not when it was sent")
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
	fs.StringVar(&f.purgeRate, "purge-rate", "5", "purges per time unit in purge-storm")
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
	// A negative -duration ran until interrupted, as 0 does, and a negative -timeout waited
	// forever: a typo must not make a bounded run unbounded.
	if f.duration < 0 {
		return fmt.Errorf("-duration: %s is negative (0 runs until interrupted)", f.duration)
	}
	if f.timeout < 0 {
		return fmt.Errorf("-timeout: %s is negative", f.timeout)
	}
	if f.prefix != "" && !strings.HasPrefix(f.prefix, "/") {
		// <base><prefix><n>: without the slash every URL is unparsable and every request
		// an error, in a run that still exits 0.
		return fmt.Errorf("-prefix %q: must start with /", f.prefix)
	}
	if f.maxBody < -1 {
		return fmt.Errorf("-max-body: %d: want bytes, or -1 to keep every body", f.maxBody)
	}
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
	cfg := Config{Name: f.name, Pacer: rate, Duration: f.duration, Workers: f.workers,
		MaxWorkers: f.maxWorkers, FromSchedule: f.fromSchedule}
	if f.scenario == "stampede" {
		if f.burst <= 0 {
			return fmt.Errorf("-burst must be positive, got %d", f.burst)
		}
		cfg.Pacer = Burst{Constant: rate, Size: f.burst}
	}
	tr, storm, err := f.load(stdin, header, &cfg)
	if err != nil {
		return err
	}
	if _, _, _, err := cfg.pacer(); err != nil {
		return err
	}
	newEncoder, ok := map[string]func(io.Writer) vegeta.Encoder{
		"gob": vegeta.NewEncoder, "json": vegeta.NewJSONEncoder, "csv": vegeta.NewCSVEncoder,
	}[f.encoding]
	if !ok {
		return fmt.Errorf("-encoding %q: want gob, json or csv", f.encoding)
	}
	out, closeOut, err := openOutput(f.output, stdout)
	if err != nil {
		return fmt.Errorf("-output: %w", err)
	}
	buf := bufio.NewWriter(out)
	enc := newEncoder(buf)

	attackCtx, stopStorm := context.WithCancel(ctx)
	defer stopStorm()
	stormDone := make(chan error, 1)
	if storm != nil {
		go func() { stormDone <- storm.run(attackCtx, stderr) }()
	}
	err = Attack(ctx, cfg, tr, func(r *vegeta.Result) error { return enc.Encode(r) })
	stopStorm()
	if ferr := buf.Flush(); err == nil && ferr != nil {
		err = fmt.Errorf("-output: %w", ferr)
	}
	if cerr := closeOut(); err == nil && cerr != nil {
		err = fmt.Errorf("-output: %w", cerr)
	}
	if storm != nil {
		if serr := <-stormDone; err == nil {
			err = serr
		}
	}
	return err
}

// load turns the flags into a targeter and the attacker's transport options, plus a purge
// storm for the purge-storm scenario.
func (f *attackFlags) load(stdin io.Reader, header http.Header, cfg *Config) (vegeta.Targeter, *purgeStorm, error) {
	if f.scenario == "dns" {
		typ, ok := dns.StringToType[strings.ToUpper(f.dnsType)]
		if !ok {
			return nil, nil, fmt.Errorf("-dns-type: unknown type %q", f.dnsType)
		}
		if f.dnsNet != "udp" && f.dnsNet != "tcp" {
			return nil, nil, fmt.Errorf("-dns-net %q: want udp or tcp", f.dnsNet)
		}
		tr, err := DNSTargeter(f.dnsAddr, f.dnsName, typ)
		if err != nil {
			return nil, nil, fmt.Errorf("-dns, -dns-name: %w", err)
		}
		client := &http.Client{Transport: &DNSTransport{Net: f.dnsNet, Timeout: f.timeout}, Timeout: f.timeout}
		cfg.Options = []func(*vegeta.Attacker){vegeta.Client(client), vegeta.MaxBody(f.maxBody)}
		return tr, nil, nil
	}
	cfg.Options = []func(*vegeta.Attacker){vegeta.Timeout(f.timeout), vegeta.KeepAlive(f.keepalive),
		vegeta.MaxBody(f.maxBody), vegeta.Redirects(f.redirects)}
	if f.insecure {
		cfg.Options = append(cfg.Options, vegeta.TLSConfig(&tls.Config{InsecureSkipVerify: true}))
	}
	if f.scenario == "" {
		tr, err := f.fileTargets(stdin, header)
		return tr, nil, err
	}
	if len(f.bases) == 0 {
		return nil, nil, fmt.Errorf("-scenario %s needs at least one -base URL", f.scenario)
	}
	for _, b := range f.bases {
		if u, err := url.ParseRequestURI(b); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, nil, fmt.Errorf("-base %q: want an absolute http(s) URL", b)
		}
	}
	if f.keys <= 0 {
		return nil, nil, fmt.Errorf("-keys must be positive, got %d", f.keys)
	}
	ks := KeySpace{Bases: f.bases, Prefix: f.prefix, Header: header}
	switch f.scenario {
	case "hit":
		return HitTargeter(ks, f.keys), nil, nil
	case "miss":
		return MissTargeter(ks, f.runID), nil, nil
	case "stampede":
		return StampedeTargeter(ks, f.burst, f.runID), nil, nil
	case "zipf", "purge-storm":
		z, err := NewZipf(f.keys, f.zipfS)
		if err != nil {
			return nil, nil, fmt.Errorf("-zipf-s/-keys: %w", err)
		}
		tr := ZipfTargeter(ks, z, f.seed)
		if f.scenario == "zipf" {
			return tr, nil, nil
		}
		storm, err := f.storm(ks, z, cfg.Options)
		return tr, storm, err
	}
	return nil, nil, fmt.Errorf("-scenario %q: want hit, miss, zipf, stampede, purge-storm or dns", f.scenario)
}

// fileTargets reads every target up front, as vegeta's attack does unless -lazy, and cycles
// through them.
func (f *attackFlags) fileTargets(stdin io.Reader, header http.Header) (vegeta.Targeter, error) {
	in, closeIn, err := openInput(f.targets, stdin)
	if err != nil {
		return nil, fmt.Errorf("-targets: %w", err)
	}
	defer closeIn()
	var tr vegeta.Targeter
	switch f.format {
	case vegeta.HTTPTargetFormat:
		tr = vegeta.NewHTTPTargeter(in, nil, header)
	case vegeta.JSONTargetFormat:
		tr = vegeta.NewJSONTargeter(in, nil, header)
	default:
		return nil, fmt.Errorf("-format %q: want http or json", f.format)
	}
	targets, err := vegeta.ReadAllTargets(tr)
	if err != nil {
		return nil, fmt.Errorf("-targets %s: %w", f.targets, err)
	}
	return vegeta.NewStaticTargeter(targets...), nil
}

// purgeStorm is the purge-storm scenario's second attack.
type purgeStorm struct {
	cfg Config
	tr  vegeta.Targeter
}

func (f *attackFlags) storm(ks KeySpace, z *Zipf, opts []func(*vegeta.Attacker)) (*purgeStorm, error) {
	if f.purgeAdmin == "" {
		return nil, fmt.Errorf("-scenario purge-storm needs -purge-admin")
	}
	rate, err := parseRate(f.purgeRate)
	if err != nil || rate.Freq == 0 {
		return nil, fmt.Errorf("-purge-rate %q: want a positive rate", f.purgeRate)
	}
	var token string
	if f.purgeTokenFile != "" {
		// Read as the node reads purge.token_file: a device, a pipe or a log named by
		// mistake is refused, not read until memory runs out.
		raw, err := conf.ReadFile(f.purgeTokenFile, conf.MaxSecretBytes, "a token file")
		if err != nil {
			return nil, fmt.Errorf("-purge-token-file: %w", err)
		}
		if token = strings.TrimSpace(string(raw)); token == "" {
			return nil, fmt.Errorf("-purge-token-file: %s is empty", f.purgeTokenFile)
		}
	}
	// The cache keys a purge names carry the virtual host the load presents, not the node's.
	purgeKeys := ks
	if host := ks.Header.Get("Host"); host != "" {
		u, _ := url.Parse(ks.Bases[0]) // checked by load
		u.Host = host
		purgeKeys.Bases = []string{u.String()}
	}
	cfg := Config{Name: "purge-storm", Pacer: rate, Options: opts}
	return &purgeStorm{cfg: cfg, tr: PurgeTargeter(f.purgeAdmin, token, MixedPurges(purgeKeys.URL, z, f.seed))}, nil
}

// run purges until ctx ends and writes vegeta's text report of the purges to w.
func (s *purgeStorm) run(ctx context.Context, w io.Writer) error {
	m, err := Run(ctx, s.cfg, s.tr)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "purge storm:")
	return vegeta.NewTextReporter(m).Report(w)
}

// parseRate reads vegeta's rate syntax: "N", "N/s" or "N/<duration>" ("N/100ms", "N/m");
// "0" or "infinity" means unpaced.
func parseRate(s string) (Constant, error) {
	if s == "infinity" {
		return Constant{}, nil
	}
	num, per, hasPer := strings.Cut(strings.TrimSpace(s), "/")
	n, err := strconv.Atoi(strings.TrimSpace(num))
	if err != nil || n < 0 {
		return Constant{}, fmt.Errorf("bad rate %q: want N, N/s or N/100ms with a whole N >= 0", s)
	}
	if n == 0 {
		return Constant{}, nil
	}
	if !hasPer {
		return PerSecond(n), nil
	}
	per = strings.TrimSpace(per)
	unit := per
	if unit != "" && !strings.ContainsAny(unit[:1], "0123456789") {
		unit = "1" + unit // "N/s" is "N/1s"
	}
	d, err := time.ParseDuration(unit)
	if err != nil || d <= 0 {
		return Constant{}, fmt.Errorf("bad rate period %q in %q", per, s)
	}
	return Constant{Freq: n, Per: d}, nil
}

// parseHeaders reads "Name: value" lines, keeping the name as written as vegeta does (the
// systems under test may care about case).
func parseHeaders(lines []string) (http.Header, error) {
	h := http.Header{}
	for _, line := range lines {
		name, value, ok := strings.Cut(line, ":")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			return nil, fmt.Errorf("-header %q: want \"Name: value\"", line)
		}
		h[name] = append(h[name], value)
	}
	return h, nil
}
