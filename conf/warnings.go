package conf

import (
	"fmt"
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"
)

// Warnings lists what a valid configuration allows but an operator rarely means, each with its
// key and line as an Error would have; `shoal check` prints them and still exits 0, `shoal
// run` logs them once at start. They are not errors because each has a use.
//
// No routes: every request on the data listeners gets 404. nginx starts an http block with
// no location the same way; the use is a node that serves only gslb (its data listener is
// still required) or one whose routes come in a later reload, so it is said only without
// gslb.listen.
//
// A secret file other users may read or write (cluster.secret_file, accept_secret_files,
// purge.token_file, a TLS key): any local user could join the cluster, forge peer requests
// and purges, or read the key. OpenSSH refuses such a private key; this only warns, as a
// container's mounted secrets are often 0644 with nobody else on the host.
//
// A key its feature leaves unused (unusedKeys): the use is a pool or route written once and
// switched on later.
func Warnings(c *Config, file string, data []byte) []*Error {
	var ws []*Error
	if len(c.Routes) == 0 && c.GSLB.Listen == "" {
		ws = append(ws, &Error{File: file, Line: KeyLine(data, "routes"), Key: "routes",
			Msg: "warning: no routes: every request on listen.http and listen.https gets 404"})
	}
	ws = append(ws, unusedKeys(c, file, data)...)
	for _, s := range secretFiles(c) {
		path := s.path
		if !filepath.IsAbs(path) && file != "" {
			path = filepath.Join(filepath.Dir(file), path)
		}
		if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o007 != 0 {
			ws = append(ws, &Error{File: file, Line: KeyLine(data, s.key), Key: s.key,
				Msg: fmt.Sprintf("warning: %s is open to every user on this host (mode %04o): chmod o-rwx", s.path, st.Mode().Perm())})
		}
	}
	return ws
}

// unusedKeys names keys written with a value that the key switching their feature on leaves
// unused, as haproxy -c warns of "http-check expect" without "option httpchk": a pool with
// health.expect_status but no health.path was never probed, and `shoal check` said ok.
// Only values other than the zero (what examples/shoal.yaml writes for an unused key) count.
func unusedKeys(c *Config, file string, data []byte) []*Error {
	var root yaml.Node
	if yaml.Unmarshal(data, &root) != nil {
		return nil
	}
	pos := indexPositions(&root)
	var ws []*Error
	warn := func(key, off string) {
		v, ok := pos.values[key]
		if !ok || v.kind == yaml.ScalarNode && (v.text == "" || v.text == "0" || v.text == "0s" || v.text == "false") {
			return
		}
		ws = append(ws, &Error{File: file, Line: pos.line(key), Key: key, Msg: "warning: not used: " + off})
	}
	for _, name := range sortedKeys(c.Origins) {
		p, key := c.Origins[name], "origins."+name
		if p == nil {
			continue
		}
		if p.Health.Path == "" {
			for _, k := range []string{"timeout", "expect_status", "expect_body", "host"} {
				warn(key+".health."+k, "no health.path, so no active health check")
			}
		}
		if p.Sticky.Cookie == "" {
			warn(key+".sticky.max_age", "no sticky.cookie, so no cookie to give an age")
		}
	}
	for i, r := range c.Routes {
		if r.RateLimit.Rate == 0 {
			warn(fmt.Sprintf("routes[%d].rate_limit.burst", i), "rate_limit.rate is 0, so the route has no rate limit")
		}
	}
	if len(c.VIP.Addresses) == 0 {
		warn("vip.interface", "no vip.addresses")
	}
	return ws
}

// secretFiles are the configuration's secret files, by key, in file order.
func secretFiles(c *Config) []struct{ key, path string } {
	var out []struct{ key, path string }
	add := func(key, path string) {
		if path != "" {
			out = append(out, struct{ key, path string }{key, path})
		}
	}
	add("cluster.secret_file", c.Cluster.SecretFile)
	for i, f := range c.Cluster.AcceptSecretFiles {
		add(fmt.Sprintf("cluster.accept_secret_files[%d]", i), f)
	}
	add("purge.token_file", c.Purge.TokenFile)
	for i, crt := range c.TLS.Certificates {
		add(fmt.Sprintf("tls.certificates[%d].key", i), crt.Key)
	}
	return out
}
