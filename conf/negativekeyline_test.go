package conf

import (
	"errors"
	"testing"
)

// TestParse_negativeNumbersNameTheirKey: a negative limits.max_conns, max_conns_per_ip, a
// pool's health.rise or fall, max_conns or max_queue, a route's rate_limit.rate or burst and
// gslb.ttl or answers were blamed on their section ("limits: connection limits must not be
// negative") at the section's line, not at the key's: in a file written in block style the
// error pointed a line or more above the mistake and did not say which key it was.
func TestParse_negativeNumbersNameTheirKey(t *testing.T) {
	const pool = "origins:\n  a:\n    servers: [{url: \"http://127.0.0.1:1\"}]\n"
	const route = "routes:\n  - origin: a\n"
	const listen = "listen: {http: \":80\"}\n"
	cases := []struct {
		yaml, key string
		line      int
	}{
		{listen + "limits:\n  max_conns: 10\n  max_conns_per_ip: -1\n" + pool + route, "limits.max_conns_per_ip", 4},
		{listen + "limits:\n  max_conns: -1\n" + pool + route, "limits.max_conns", 3},
		{listen + pool + "    health:\n      path: /h\n      fall: -2\n" + route, "origins.a.health.fall", 7},
		{listen + pool + "    health:\n      rise: -1\n" + route, "origins.a.health.rise", 6},
		{listen + pool + "    max_queue: -1\n" + route, "origins.a.max_queue", 5},
		{listen + pool + "    max_conns: -3\n" + route, "origins.a.max_conns", 5},
		{listen + pool + route + "    rate_limit:\n      rate: 5\n      burst: -1\n", "routes[0].rate_limit.burst", 9},
		{listen + pool + route + "    rate_limit:\n      rate: -5\n", "routes[0].rate_limit.rate", 8},
		{listen + pool + route + "gslb:\n  listen: \":53\"\n  zone: c.\n  names: [www]\n  answers: -1\n", "gslb.answers", 11},
		{listen + pool + route + "gslb:\n  listen: \":53\"\n  zone: c.\n  names: [www]\n  ttl: -1\n", "gslb.ttl", 11},
	}
	for _, tc := range cases {
		_, err := Parse([]byte(tc.yaml), "bad.yaml", "")
		var errs Errors
		if !errors.As(err, &errs) || len(errs) != 1 || errs[0].Key != tc.key || errs[0].Line != tc.line {
			t.Errorf("%q:\n%v; want one %s error on line %d", tc.yaml, err, tc.key, tc.line)
		}
	}
}
