package conf

import (
	"errors"
	"slices"
	"testing"
)

// TestParse_routeHostsThatCanNeverMatch: a route is matched against the request's host
// lower-cased, without its port or trailing dot, and IPv6 literals in brackets in their
// canonical form. A match.host written with a port ("www.example.com:8080"), a bare "*",
// a wildcard anywhere but a leading "*." ("*example.com", "www.*.com"), or a bare IPv6 address
// was ok and the route silently matched nothing. These are refused; a trailing dot and an
// IPv6 literal's spelling are folded as the request's host is.
func TestParse_routeHostsThatCanNeverMatch(t *testing.T) {
	const rest = "listen: {http: \":80\"}\norigins: {a: {servers: [{url: \"http://127.0.0.1:1\"}]}}\n"
	for _, host := range []string{`"www.example.com:8080"`, `"*"`, `"*example.com"`, `"www.*.com"`, `"*."`, `"::1"`, `"[::1]:8080"`, `"[not-an-address]"`} {
		yaml := rest + "routes:\n  - match: {host: [" + host + "]}\n    origin: a\n"
		_, err := Parse([]byte(yaml), "bad.yaml", "")
		var errs Errors
		if !errors.As(err, &errs) || len(errs) != 1 || errs[0].Key != "routes[0].match.host[0]" || errs[0].Line != 4 {
			t.Errorf("host %s: %v; want one routes[0].match.host[0] error on line 4", host, err)
		}
	}
	yaml := rest + "routes:\n  - match: {host: [\"WWW.Example.COM.\", \"*.example.org\", \"[0:0::1]\", \"192.0.2.1\"]}\n    origin: a\n"
	cfg, err := Parse([]byte(yaml), "good.yaml", "")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cfg.Routes[0].Match.Host, []string{"www.example.com", "*.example.org", "[::1]", "192.0.2.1"}; !slices.Equal(got, want) {
		t.Errorf("hosts %q, want %q", got, want)
	}
}
