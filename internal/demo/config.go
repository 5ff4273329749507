package demo

import (
	"fmt"
	"strings"

	"github.com/shoal-cdn/shoal/conf"
)

// Config is the demo edge's configuration: a static pool and a dynamic pool with sticky
// sessions in front of the given origins. It goes through conf.Parse like any file, so the
// demo exercises the same validation as production.
func Config(static, dynamic []*Origin, httpAddr, adminAddr string) (*conf.Config, string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "node: {name: demo-1, region: local}\n")
	fmt.Fprintf(&b, "listen: {http: %q, admin: %q}\n", httpAddr, adminAddr)
	fmt.Fprintf(&b, "cache: {memory: 64MiB, max_object_size: 8MiB, stale_if_error: 1m}\n")
	fmt.Fprintf(&b, "log: {access: combined}\n")
	fmt.Fprintf(&b, "origins:\n  static:\n    balance: roundrobin\n    health: {path: /health.html, interval: 2s}\n    servers:\n")
	for _, o := range static {
		fmt.Fprintf(&b, "      - url: %s\n", o.URL)
	}
	fmt.Fprintf(&b, "  dynamic:\n    balance: leastconn\n    sticky: {cookie: SHOALSRV}\n    health: {path: /health.php, interval: 2s}\n    servers:\n")
	for _, o := range dynamic {
		fmt.Fprintf(&b, "      - url: %s\n", o.URL)
	}
	fmt.Fprintf(&b, "routes:\n")
	fmt.Fprintf(&b, "  - {match: {path_prefix: /static/}, origin: static, cache: true}\n")
	fmt.Fprintf(&b, "  - {match: {extensions: [css, js, svg, png]}, origin: static, cache: true}\n")
	fmt.Fprintf(&b, "  - {match: {path_prefix: /}, origin: dynamic, cache: false}\n")
	text := b.String()
	cfg, err := conf.Parse([]byte(text), "demo.yaml", "")
	return cfg, text, err
}
