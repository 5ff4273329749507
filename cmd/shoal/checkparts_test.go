package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Files `shoal run` refuses at start were ok to `shoal check`: the pool, GSLB, VIP and
// certificate rules the components hold (origin.Validate, gslb.Validate, vip.Validate say
// "shoal check calls it", and it did not). Each is refused now with file, line and key, and
// the same file without the fault still checks ok.
func TestRun_checkRefusesWhatRunRefuses(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "bad.crt"), []byte("not a certificate\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "bad.key"), []byte("not a key\n"), 0o600)
	const head = "listen: {http: \"127.0.0.1:0\", admin: \"127.0.0.1:0\"}\nroutes: [{origin: a}]\n"
	const pool = "origins: {a: {servers: [{url: \"http://127.0.0.1:1\"}]}}\n"
	const zone = "gslb:\n  listen: \"127.0.0.1:0\"\n  zone: cdn.example.com.\n"
	cases := []struct {
		name, yaml, want string
	}{
		{"repeated server id", head + "origins:\n  a:\n    servers:\n      - {url: \"http://127.0.0.1:1\", id: s}\n      - {url: \"http://127.0.0.2:1\", id: s}\n",
			":7: origins.a.servers[1]: id \"s\" repeats"},
		{"bad sticky cookie", head + "origins:\n  a:\n    sticky: {cookie: \"my cookie\"}\n    servers: [{url: \"http://127.0.0.1:1\"}]\n",
			":5: origins.a.sticky.cookie: \"my cookie\" is not a valid cookie name"},
		{"bad pool host", head + "origins:\n  a:\n    host: \"a b\"\n    servers: [{url: \"http://127.0.0.1:1\"}]\n",
			":5: origins.a.host: \"a b\" is not a host name"},
		{"ns outside the zone", head + pool + zone + "  names: [www]\n  ns: [ns1.example.org.]\n",
			":8: gslb.ns[0]: \"ns1.example.org.\" is outside zone"},
		{"zone not a name", head + pool + "gslb:\n  listen: \"127.0.0.1:0\"\n  zone: \"a..b.\"\n  names: [www]\n",
			":6: gslb.zone: \"a..b.\" is not a domain name"},
		{"wildcard name", head + pool + zone + "  names: [www, \"*\"]\n",
			":7: gslb.names[1]: \"*\" is not a host name"},
		{"name outside the zone", head + pool + zone + "  names: [www.example.org.]\n",
			":7: gslb.names[0]: \"www.example.org.\" is outside zone"},
		{"name twice", head + pool + zone + "  names: [www, WWW]\n",
			":7: gslb.names[1]: \"WWW\" listed twice"},
		{"certificate that does not load", head + pool + "tls:\n  certificates:\n    - {cert: bad.crt, key: bad.key}\n",
			":6: tls.certificates[0]: "},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			file := filepath.Join(dir, "shoal.yaml")
			if err := os.WriteFile(file, []byte(tc.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			var stdout, stderr bytes.Buffer
			if code := run([]string{"check", "-c", file}, &stdout, &stderr); code != 1 {
				t.Errorf("check exited %d (%q), want 1", code, stdout.String())
			}
			if !strings.Contains(stderr.String(), file+tc.want) {
				t.Errorf("check said %q, want %q", stderr.String(), file+tc.want)
			}
		})
	}
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, []byte(head+pool+zone+"  names: [www, img]\n  ns: [ns1]\n"), 0o644)
	var stdout, stderr bytes.Buffer
	if code := run([]string{"check", "-c", good}, &stdout, &stderr); code != 0 {
		t.Errorf("check of a good file exited %d: %q", code, stderr.String())
	}
}
