package conf

import (
	"errors"
	"strings"
	"testing"
)

// Addresses `shoal run` cannot bind were ok to `shoal check`: a port outside 0..65535 or not a
// number, and two of the node's sockets on one TCP port (listen.*, gslb.listen, cluster.bind),
// also when one of them is the wildcard address.
func TestParse_listenAddressesTheNodeCannotBind(t *testing.T) {
	const pool = "origins: {a: {servers: [{url: \"http://127.0.0.1:1\"}]}}\nroutes: [{origin: a}]\n"
	cases := []struct {
		name, yaml, key string
		line            int
		msg             string
	}{
		{"port above 65535", "listen:\n  http: \"127.0.0.1:99999\"\n", "listen.http", 2, "0 to 65535"},
		{"port a name", "listen:\n  http: \":8080\"\n  admin: \"127.0.0.1:admin\"\n", "listen.admin", 3, "0 to 65535"},
		{"negative port", "listen:\n  http: \"127.0.0.1:-1\"\n", "listen.http", 2, "0 to 65535"},
		{"gslb port", "listen: {http: \":80\"}\ngslb:\n  listen: \":65536\"\n  zone: c.\n  names: [www]\n", "gslb.listen", 3, "0 to 65535"},
		{"cluster join port", "listen: {http: \":80\", peer: \":81\"}\ncluster:\n  bind: \":7946\"\n  join: [\"10.0.0.2:7946x\"]\n", "cluster.join[0]", 4, "1 to 65535"},
		{"peer on http", "listen:\n  http: \"127.0.0.1:8080\"\n  peer: \"127.0.0.1:8080\"\n", "listen.peer", 3, "takes the port of listen.http"},
		{"admin on http", "listen:\n  http: \"127.0.0.1:8080\"\n  admin: \"127.0.0.1:8080\"\n", "listen.admin", 3, "takes the port of listen.http"},
		{"wildcard and specific", "listen:\n  http: \":8080\"\n  h2c: \"127.0.0.1:8080\"\n", "listen.h2c", 3, "takes the port of listen.http"},
		{"v4-mapped same host", "listen:\n  http: \"127.0.0.1:8080\"\n  https: \"[::ffff:127.0.0.1]:8080\"\n", "listen.https", 3, "takes the port"},
		{"gslb on admin", "listen: {http: \":80\", admin: \"127.0.0.1:9090\"}\ngslb:\n  listen: \"0.0.0.0:9090\"\n  zone: c.\n  names: [www]\n", "gslb.listen", 3, "takes the port of listen.admin"},
		{"cluster.bind on peer", "listen: {http: \":80\", peer: \":7946\"}\ncluster:\n  bind: \":7946\"\n", "cluster.bind", 3, "takes the port of listen.peer"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml+pool), "bad.yaml", "")
			var errs Errors
			if !errors.As(err, &errs) || len(errs) == 0 {
				t.Fatalf("want conf.Errors, got %v", err)
			}
			for _, e := range errs {
				if e.Key == tc.key && e.Line == tc.line && strings.Contains(e.Msg, tc.msg) {
					return
				}
			}
			t.Errorf("got %v; want key=%q line=%d msg~%q", err, tc.key, tc.line, tc.msg)
		})
	}
	for _, ok := range []string{
		"listen: {http: \"127.0.0.1:0\", peer: \"127.0.0.1:0\", admin: \"127.0.0.1:0\"}\n", // a free port each
		"listen: {http: \"127.0.0.1:8080\", peer: \"127.0.0.2:8080\", admin: \"127.0.0.1:9090\"}\n",
		"listen: {http: \"127.0.0.1:65535\", peer: \"[::1]:8080\", h2c: \"127.0.0.1:8082\"}\n", // https needs a certificate
	} {
		if _, err := Parse([]byte(ok+pool), "good.yaml", ""); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
}
