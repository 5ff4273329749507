package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/shoal-cdn/shoal/edge"
	"github.com/shoal-cdn/shoal/internal/demo"
)

func runDemo(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("shoal demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	nodes := fs.Int("nodes", 3, "edge nodes, on 127.0.0.1, 127.0.0.2, ...")
	httpPort := fs.Int("port", 8080, "HTTP `port` of every node (0: free ports)")
	adminPort := fs.Int("admin-port", 9090, "admin `port` of every node (0: free ports)")
	dnsPort := fs.Int("dns-port", 5353, "GSLB DNS `port` of every node (0: free ports)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if *nodes < 1 || *nodes > 9 {
		return errors.New("-nodes must be 1 to 9")
	}
	// Checked here, a bad port names its flag; the generated files' keys (demo-1.yaml:2:
	// listen.http) are in files the operator never wrote.
	for _, p := range []struct {
		flag string
		port int
	}{{"-port", *httpPort}, {"-admin-port", *adminPort}, {"-dns-port", *dnsPort}} {
		if p.port < 0 || p.port > 65535 {
			return fmt.Errorf("%s %d: want a port from 0 to 65535", p.flag, p.port)
		}
	}
	var static, dynamic []*demo.Origin
	for i, name := range []string{"static-1", "static-2", "app-1", "app-2"} {
		o, err := demo.StartOrigin(name)
		if err != nil {
			return err
		}
		defer o.Close()
		if i < 2 {
			static = append(static, o)
		} else {
			dynamic = append(dynamic, o)
		}
	}
	dir, err := os.MkdirTemp("", "shoal-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	site, err := demo.NewSite(static, dynamic, dir, *httpPort, *adminPort, *dnsPort)
	if err != nil {
		return err
	}
	sigs := make(chan os.Signal, 1) // before the nodes start: see runNode
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigs)
	log, _ := newLogger("warn", stderr)
	var running []*edge.Node
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for _, n := range running {
			n.Shutdown(ctx)
		}
	}()
	join := ""
	for i := 0; i < *nodes; i++ {
		cfg, err := site.NodeConfig(i, join)
		if err != nil {
			return err
		}
		n, err := edge.New(cfg, edge.Options{Logger: log.With("node", cfg.Node.Name), AccessLog: stderr, Version: version})
		if err != nil {
			return err
		}
		if err := n.Start(); err != nil {
			return err
		}
		running = append(running, n)
		if i == 0 {
			join = n.Ring().GossipAddr()
		}
	}
	printDemo(stdout, running, site)
	<-sigs
	return nil
}

func printDemo(w io.Writer, nodes []*edge.Node, site *demo.Site) {
	fmt.Fprintf(w, "Shoal demo: %d edge nodes in one ring, in front of two static and two dynamic origins.\n\n", len(nodes))
	for _, n := range nodes {
		fmt.Fprintf(w, "  edge    http://%s    admin http://%s    dns %s\n", n.HTTPAddr(), n.AdminAddr(), n.DNSAddr())
	}
	first, second := "http://"+nodes[0].HTTPAddr(), "http://"+nodes[len(nodes)-1].HTTPAddr()
	fmt.Fprintf(w, `
Try:
  curl -si -H 'Host: www.demo.shoal' %[1]s/static/site.css | grep -i cache-status   # a miss, filled by the key's owner
  curl -si -H 'Host: www.demo.shoal' %[2]s/static/site.css | grep -i cache-status   # another node: a hit on the owner
  curl -si -c /tmp/shoal.jar -b /tmp/shoal.jar %[1]s/app/                              # dynamic, never cached, sticky
  dig @%[3]s -p %[4]s www.demo.shoal A +short                          # GSLB: the healthy edges
  curl -s -H 'Authorization: Bearer %[5]s' -d '{"key": "static"}' http://%[6]s/purge
  curl -s http://%[6]s/stats.json

Ctrl-C stops it.
`, first, second, hostOf(nodes[0].DNSAddr()), portOf(nodes[0].DNSAddr()), site.Token, nodes[0].AdminAddr())
}

func hostOf(addr string) string {
	h, _, _ := net.SplitHostPort(addr)
	return h
}

func portOf(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}
