package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/shoal-cdn/shoal/conf"
	"github.com/shoal-cdn/shoal/edge"
	"github.com/shoal-cdn/shoal/internal/demo"
)

func runDemo(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("shoal demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	httpAddr := fs.String("http", "127.0.0.1:8080", "edge HTTP `address`")
	adminAddr := fs.String("admin", "127.0.0.1:9090", "admin `address`")
	if err := fs.Parse(args); err != nil {
		return err
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
	cfg, _, err := demo.Config(static, dynamic, *httpAddr, *adminAddr)
	if err != nil {
		return err
	}
	log := newLogger("info", stderr)
	node, err := edge.New(cfg, edge.Options{Logger: log, AccessLog: os.Stderr, Version: version})
	if err != nil {
		return err
	}
	if err := node.Start(); err != nil {
		return err
	}
	base := "http://" + node.HTTPAddr()
	fmt.Fprintf(stdout, `Shoal demo is running: an edge in front of two static and two dynamic origins.

  edge    %[1]s
  admin   http://%[2]s  (/metrics, /healthz, /readyz)

Try:
  curl -si %[1]s/static/site.css | grep -i -e '^HTTP' -e cache-status -e age    # a miss, then run it again: a hit
  curl -si %[1]s/static/app.js -H 'Cache-Control: only-if-cached'            # 504 until something stored it
  curl -si -c /tmp/shoal.jar -b /tmp/shoal.jar %[1]s/app/                   # dynamic, never cached, sticky session
  curl -s  http://%[2]s/metrics | grep shoal_edge_cache

Ctrl-C stops it.
`, base, node.AdminAddr())
	return serveUntilSignal(node, log, func() (*conf.Config, error) { return cfg, nil }, cfg.Cache.FillTimeout.D())
}
