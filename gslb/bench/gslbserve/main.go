// Command gslbserve runs a Shoal gslb.Server alone, configured by flags, for benchmarks such as
// ../dnsperf.sh. It is not part of the shoal binary.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"runtime/pprof"
	"runtime/trace"
	"strings"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/shoal-cdn/shoal/conf"
	"github.com/shoal-cdn/shoal/gslb"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "gslbserve:", err)
		os.Exit(1)
	}
}

func run() error {
	cfg := conf.GSLB{}
	var names, regions, edges, cpuProfile, traceFile string
	var opts gslb.Options
	flag.IntVar(&opts.UDPReaders, "readers", 0, "UDP reader goroutines; 0 is one per CPU")
	flag.BoolVar(&opts.UDPSharedSocket, "shared-socket", false, "readers share one UDP socket instead of one SO_REUSEPORT socket each")
	flag.DurationVar(&opts.UDPBusyPoll, "busy-poll", 0, "how long a loaded UDP reader polls its empty socket before parking, e.g. 20us; 0 never polls")
	blocking := flag.Bool("blocking", true, "UDP readers wait in recvmmsg on blocking sockets (the default); -blocking=false parks them in the netpoller (Options.UDPNetpoll)")
	flag.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run to this file")
	flag.StringVar(&traceFile, "trace", "", "write an execution trace (runtime/trace) of the whole run to this file")
	httpAddr := flag.String("http", "", "also serve HTTP/1.1 on this address from the same process (fasthttp, 1 KiB from memory, as an edge's hit), to measure DNS and HTTP load together (../corun.sh)")
	flag.StringVar(&cfg.Listen, "listen", "127.0.0.1:5300", "UDP and TCP address")
	flag.StringVar(&cfg.Zone, "zone", "cdn.example.com.", "zone, absolute")
	flag.StringVar(&names, "names", "www", "comma-separated names in the zone")
	flag.IntVar(&cfg.TTL, "ttl", 20, "TTL of address answers")
	flag.IntVar(&cfg.Answers, "answers", 2, "records per answer")
	flag.StringVar(&regions, "regions", "local:127.0.0.0/8", "comma-separated region:cidr pairs")
	flag.StringVar(&edges, "edges", "e1:local:192.0.2.1,e2:local:192.0.2.2", "comma-separated name:region:address edges, all healthy")
	flag.Parse()

	cfg.Names = strings.Split(names, ",")
	cfg.Regions = map[string]*conf.Region{}
	for _, rc := range strings.Split(regions, ",") {
		name, cidr, ok := strings.Cut(rc, ":")
		if !ok {
			return fmt.Errorf("-regions: %q is not region:cidr", rc)
		}
		if cfg.Regions[name] == nil {
			cfg.Regions[name] = &conf.Region{}
		}
		cfg.Regions[name].CIDRs = append(cfg.Regions[name].CIDRs, cidr)
	}
	var list []gslb.Edge
	for _, e := range strings.Split(edges, ",") {
		parts := strings.SplitN(e, ":", 3)
		if len(parts) != 3 {
			return fmt.Errorf("-edges: %q is not name:region:address", e)
		}
		addr, err := netip.ParseAddr(parts[2])
		if err != nil {
			return fmt.Errorf("-edges: %w", err)
		}
		list = append(list, gslb.Edge{Name: parts[0], Region: parts[1], Addrs: []netip.Addr{addr}, Healthy: true})
	}

	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if traceFile != "" {
		f, err := os.Create(traceFile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := trace.Start(f); err != nil {
			return err
		}
		defer trace.Stop()
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	opts.Logger = log
	opts.UDPNetpoll = !*blocking
	s, err := gslb.New(cfg, opts)
	if err != nil {
		return err
	}
	s.SetEdges(list)
	if err := s.ListenAndServe(); err != nil {
		return err
	}
	udp, _ := s.Addr()
	log.Info("serving", "addr", udp)
	if *httpAddr != "" {
		ln, err := net.Listen("tcp", *httpAddr)
		if err != nil {
			return err
		}
		body := bytes.Repeat([]byte("x"), 1024)
		srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
			ctx.Response.Header.Set("Cache-Control", "max-age=60")
			ctx.SetContentType("text/plain")
			ctx.SetBody(body)
		}}
		go srv.Serve(ln)
		defer srv.Shutdown()
		log.Info("serving http", "addr", ln.Addr())
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return s.Shutdown(shutdownCtx)
}
