package demo

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/shoal-cdn/shoal/conf"
)

// Site is what every demo node shares: the origins and the secrets.
type Site struct {
	Static, Dynamic []*Origin
	Dir             string // holds the generated gossip secret and purge token
	Token           string // the purge API token
	HTTPPort        int    // each node listens on 127.0.0.N:HTTPPort; 0 picks free ports
	AdminPort       int
	DNSPort         int
}

// NewSite writes a fresh gossip secret and purge token into dir.
func NewSite(static, dynamic []*Origin, dir string, httpPort, adminPort, dnsPort int) (*Site, error) {
	s := &Site{Static: static, Dynamic: dynamic, Dir: dir, HTTPPort: httpPort, AdminPort: adminPort, DNSPort: dnsPort}
	s.Token = randomHex(16)
	for name, content := range map[string]string{"gossip.key": randomHex(24), "purge.token": s.Token} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
	}
	return s, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// NodeConfig is the configuration of demo node i (0-based) on 127.0.0.(i+1), joining join
// (the first node's gossip address; empty for the first node). It goes through conf.Parse
// like any file, so the demo exercises the same validation as production.
func (s *Site) NodeConfig(i int, join string) (*conf.Config, error) {
	ip := fmt.Sprintf("127.0.0.%d", i+1)
	var b strings.Builder
	fmt.Fprintf(&b, "node: {name: demo-%d, region: local, public_addr: %s}\n", i+1, ip)
	fmt.Fprintf(&b, "listen: {http: \"%s:%d\", admin: \"%s:%d\", peer: \"%s:0\"}\n", ip, s.HTTPPort, ip, s.AdminPort, ip)
	fmt.Fprintf(&b, "cache: {memory: 64MiB, max_object_size: 8MiB, stale_if_error: 1m, hot_local: true}\n")
	fmt.Fprintf(&b, "log: {access: combined}\n")
	joinList := "[]"
	if join != "" {
		joinList = "[\"" + join + "\"]"
	}
	fmt.Fprintf(&b, "cluster: {bind: \"%s:0\", join: %s, secret_file: gossip.key}\n", ip, joinList)
	fmt.Fprintf(&b, "purge: {token_file: purge.token, allow: [127.0.0.0/8]}\n")
	fmt.Fprintf(&b, "gslb: {listen: \"%s:%d\", zone: demo.shoal., names: [www], ttl: 5, answers: 2, regions: {local: {cidrs: [127.0.0.0/8]}}}\n", ip, s.DNSPort)
	fmt.Fprintf(&b, "origins:\n  static:\n    balance: roundrobin\n    health: {path: /health.html, interval: 2s}\n    servers:\n")
	for _, o := range s.Static {
		fmt.Fprintf(&b, "      - url: %s\n", o.URL)
	}
	fmt.Fprintf(&b, "  dynamic:\n    balance: leastconn\n    sticky: {cookie: SHOALSRV}\n    health: {path: /health.php, interval: 2s}\n    servers:\n")
	for _, o := range s.Dynamic {
		fmt.Fprintf(&b, "      - url: %s\n", o.URL)
	}
	fmt.Fprintf(&b, "routes:\n")
	fmt.Fprintf(&b, "  - {match: {path_prefix: /static/}, origin: static, cache: true}\n")
	fmt.Fprintf(&b, "  - {match: {extensions: [css, js, svg, png]}, origin: static, cache: true}\n")
	fmt.Fprintf(&b, "  - {match: {path_prefix: /}, origin: dynamic, cache: false}\n")
	return conf.Parse([]byte(b.String()), fmt.Sprintf("demo-%d.yaml", i+1), s.Dir)
}
