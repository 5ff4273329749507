package conf

import (
	"fmt"
	"os"
	"path/filepath"
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
func Warnings(c *Config, file string, data []byte) []*Error {
	var ws []*Error
	if len(c.Routes) == 0 && c.GSLB.Listen == "" {
		ws = append(ws, &Error{File: file, Line: KeyLine(data, "routes"), Key: "routes",
			Msg: "warning: no routes: every request on listen.http and listen.https gets 404"})
	}
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
