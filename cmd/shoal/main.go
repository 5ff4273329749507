// Command shoal runs a Shoal edge node and its tools: run, check, demo, loadtest, version.
// It parses flags, loads the configuration, starts an edge.Node and handles signals; the
// logic lives in the packages it calls.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/shoal-cdn/shoal/cachestore/disk"
	"github.com/shoal-cdn/shoal/conf"
	"github.com/shoal-cdn/shoal/edge"
	"github.com/shoal-cdn/shoal/loadtest"
	"github.com/shoal-cdn/shoal/purge"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `shoal: a distributed caching reverse proxy

Usage:
  shoal run -c FILE        start a node with the configuration in FILE
  shoal check -c FILE      validate FILE and exit (non-zero on errors, each naming key and line)
  shoal demo [flags]       start a demo site and an edge in front of it, no files needed
  shoal purge --admin URL --token-file F url|prefix|key|all [VALUE] [--soft]
                           invalidate cluster-wide through a node's admin API; exit 3
                           when live members did not acknowledge it (named in "missing")
  shoal loadtest attack|report|plot [flags]
                           load tests on vegeta's library (shoal loadtest attack -h)
  shoal version            print the version

Signals (run): SIGHUP reloads the file, log.level included (an invalid file, or one that
changes a key read only at start: listen, cache.memory, cache.disk, node, cluster but
bounded_load, vip, log.access, gslb, is refused and the old one stays); SIGTERM or SIGINT
finish requests in flight (for up to cache.fill_timeout) and exit; a second SIGTERM or SIGINT
stops at once, cutting them (exit status 1); SIGUSR1 and SIGUSR2 are logged and ignored (no
log file to reopen: the access log goes to stdout, the node's log to stderr). POST /reload on
the admin listener reloads too and answers 200, or 422 with the refusal.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "run":
		err = runNode(args[1:], stderr)
	case "check":
		err = check(args[1:], stdout, stderr)
	case "demo":
		err = runDemo(args[1:], stdout, stderr)
	case "loadtest":
		ctx, stop := interruptible()
		defer stop()
		err = loadtest.Command(ctx, args[1:], stdout, stderr)
	case "purge":
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		err = purge.Command(ctx, args[1:], stdout, stderr)
	case "version", "--version", "-v":
		if len(args) > 1 {
			// `shoal version check -c f` printed the version and exited 0, as if checked.
			fmt.Fprintf(stderr, "shoal version: unexpected argument %q (it takes none)\n", args[1])
			return 2
		}
		fmt.Fprintf(stdout, "shoal %s\n", version)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "shoal: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "shoal %s: %v\n", args[0], err)
		if errors.Is(err, purge.ErrIncomplete) {
			return 3 // applied, but not everywhere: scripts must see it (purge --help)
		}
		return 1
	}
	return 0
}

func configFlag(name string, args []string, stderr io.Writer) (string, error) {
	fs := flag.NewFlagSet("shoal "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("c", "/etc/shoal/shoal.yaml", "configuration `file`")
	if err := fs.Parse(args); err != nil {
		return "", err
	}
	if fs.NArg() > 0 {
		return "", fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return *path, nil
}

func check(args []string, stdout, stderr io.Writer) error {
	path, err := configFlag("check", args, stderr)
	if err != nil {
		return err
	}
	cfg, err := conf.Load(path)
	if err != nil {
		var errs conf.Errors
		if errors.As(err, &errs) {
			for _, e := range errs {
				fmt.Fprintln(stderr, e)
			}
			return fmt.Errorf("%s: %d problem(s)", path, len(errs))
		}
		return err
	}
	data, err := conf.ReadFile(path, conf.MaxConfigBytes, "a configuration file")
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	errs := partProblems(cfg, path, data)
	errs = append(errs, listenProblems(cfg, path, data)...)
	if e := memoryError(path, cfg); e != nil {
		errs = append(errs, e)
	}
	if d := cfg.Cache.Disk; d.Enabled() {
		// What only the machine can tell: the directory exists and takes a synced write.
		if err := disk.CheckPath(d.Path); err != nil {
			errs = append(errs, &conf.Error{File: path, Line: conf.KeyLine(data, "cache.disk.path"), Key: "cache.disk.path", Msg: err.Error()})
		} else if msg := diskSizeProblem(d.Path, int64(d.Size)); msg != "" {
			errs = append(errs, &conf.Error{File: path, Line: conf.KeyLine(data, "cache.disk.size"), Key: "cache.disk.size", Msg: msg})
		}
	}
	if len(errs) > 0 {
		for _, e := range errs {
			fmt.Fprintln(stderr, e)
		}
		return fmt.Errorf("%s: %d problem(s)", path, len(errs))
	}
	for _, w := range conf.Warnings(cfg, path, data) {
		fmt.Fprintln(stderr, w)
	}
	fmt.Fprintf(stdout, "%s: ok\n", path)
	return nil
}

// newLogger logs JSON lines to w at level (validated by conf); the LevelVar lets a reload
// change log.level without a new logger (edge.Options.LogLevel).
func newLogger(level string, w io.Writer) (*slog.Logger, *slog.LevelVar) {
	var l slog.Level
	l.UnmarshalText([]byte(level))
	lv := new(slog.LevelVar)
	lv.Set(l)
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: lv})), lv
}

func runNode(args []string, stderr io.Writer) error {
	path, err := configFlag("run", args, stderr)
	if err != nil {
		return err
	}
	cfg, err := conf.Load(path)
	if err != nil {
		return err
	}
	if e := memoryError(path, cfg); e != nil {
		return e
	}
	// Signals are caught before the node starts: a SIGHUP arriving between start and the
	// loop below would otherwise kill the process (SIGHUP's default action).
	sigs := notifySignals()
	defer signal.Stop(sigs)
	log, level := newLogger(cfg.Log.Level, stderr)
	if data, err := conf.ReadFile(path, conf.MaxConfigBytes, "a configuration file"); err == nil {
		for _, w := range conf.Warnings(cfg, path, data) {
			log.Warn("config", "warning", w.Error())
		}
	}
	store := applyMemoryPolicy(cfg, log)
	applyTimerSlack(processSlack(), timerSlack, log)
	node, err := edge.New(cfg, edge.Options{Logger: log, LogLevel: level, AccessLog: os.Stdout, Version: version, StoreBytes: store, ConfigFile: path})
	if err != nil {
		return conf.Locate(err, path) // names the key and its line: cache.disk.path
	}
	if err := node.Start(); err != nil {
		return conf.Locate(err, path) // listen.*, tls.certificates[i], cluster.bind, gslb.listen
	}
	done := make(chan struct{})
	defer close(done)
	newGCSwitch(store, log).watch(func() int64 { return node.Store().Stats().Bytes }, time.Second, done)
	return serveUntilSignal(sigs, node, log, cfg.Cache.FillTimeout.D())
}

func notifySignals() chan os.Signal {
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT, syscall.SIGUSR1, syscall.SIGUSR2)
	return sigs
}

// ignoredSignals says, in the log, why SIGUSR1 and SIGUSR2 change nothing (Go ignores them
// silently). Operators send them by habit: logrotate's postrotate sends nginx SIGUSR1 to
// reopen its logs (HAProxy reads it as a graceful stop), and nginx's binary upgrade is
// SIGUSR2. The node keeps no log file to reopen (both logs go to stdout and stderr) and
// restarts to upgrade.
var ignoredSignals = map[os.Signal]string{
	syscall.SIGUSR1: "no log file to reopen: the access log goes to stdout and the node's log to stderr (journald, or the supervisor, rotates them); SIGTERM drains and stops",
	syscall.SIGUSR2: "no binary upgrade in place: restart the node (SIGTERM drains it) to run a new binary; SIGHUP reloads the configuration",
}

// serveUntilSignal reloads the configuration file on SIGHUP and shuts down gracefully on
// SIGTERM or SIGINT, waiting up to grace for requests in flight. A second SIGTERM or SIGINT
// while draining stops at once (Ctrl-C twice, as Go's own tools do; HAProxy's hard stop):
// the drain's context is cancelled, so the node still closes its stores (the disk tier's
// index is written) but waits for no request.
func serveUntilSignal(sigs chan os.Signal, node *edge.Node, log *slog.Logger, grace time.Duration) error {
	for sig := range sigs {
		if sig == syscall.SIGHUP {
			node.ReloadFile("SIGHUP") // logs a refusal, naming file, line and key
			continue
		}
		if why, ok := ignoredSignals[sig]; ok {
			log.Info("signal ignored", "signal", sig.String(), "why", why)
			continue
		}
		log.Info("shutting down", "signal", sig.String(), "grace", grace.String())
		return drain(sigs, node, log, grace)
	}
	return nil
}

// errSecondSignal ends `shoal run` with status 1: requests in flight may have been cut.
var errSecondSignal = errors.New("stopped by a second signal before the drain ended; requests in flight were cut")

func drain(sigs chan os.Signal, node *edge.Node, log *slog.Logger, grace time.Duration) error {
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- node.Shutdown(ctx) }()
	forced := false
	for {
		select {
		case err := <-done:
			if forced {
				return errSecondSignal
			}
			if err != nil && ctx.Err() != nil {
				return fmt.Errorf("drain: requests still in flight after %v (cache.fill_timeout) were cut: %w", grace, err)
			}
			return err
		case sig := <-sigs:
			switch {
			case forced:
				return errSecondSignal // a third: the close itself hangs; leave it
			case sig == syscall.SIGTERM || sig == syscall.SIGINT:
				forced = true
				log.Warn("second signal: stopping now, without waiting for requests in flight", "signal", sig.String(), "draining_for", time.Since(start).Round(time.Millisecond).String())
				cancel()
			default:
				log.Info("signal ignored while draining", "signal", sig.String())
			}
		}
	}
}
