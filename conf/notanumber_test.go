package conf

import (
	"errors"
	"testing"
)

// A size or a ratio written as NaN passed every bound, since every comparison with NaN is
// false: "NaN" (and "NaNMiB") became -2^63 bytes, so cache.max_object_size: NaNMiB was ok and
// limits.max_body_bytes: NaN was blamed on policy.max_body_bytes without a line, and
// heuristic_fraction, bounded_load and a route's rate took NaN as it was.
func TestParse_notANumberRefused(t *testing.T) {
	const rest = "listen: {http: \":80\"}\norigins: {a: {servers: [{url: \"http://127.0.0.1:1\"}]}}\n"
	const route = "routes: [{origin: a}]\n"
	cases := []struct{ yaml, key string }{
		{route + "cache: {memory: NaN}\n", "cache.memory"},
		{route + "cache: {memory: nan}\n", "cache.memory"},
		{route + "cache: {max_object_size: NaNMiB}\n", "cache.max_object_size"},
		{route + "cache: {max_object_size: -NaN KiB}\n", "cache.max_object_size"},
		{route + "limits: {max_body_bytes: NaN}\n", "limits.max_body_bytes"},
		{route + "limits: {max_header_bytes: NaN}\n", "limits.max_header_bytes"},
		{route + "policy: {max_body_bytes: NaN}\n", "policy.max_body_bytes"},
		{route + "compression: {min_size: NaN}\n", "compression.min_size"},
		{route + "cache: {heuristic_fraction: .nan}\n", "cache.heuristic_fraction"},
		{route + "cache: {heuristic_fraction: .inf}\n", "cache.heuristic_fraction"},
		{route + "cluster: {bounded_load: .nan}\n", "cluster.bounded_load"},
		{route + "cluster: {bounded_load: .inf}\n", "cluster.bounded_load"},
		{"routes: [{origin: a, rate_limit: {rate: .nan, burst: 1}}]\n", "routes[0].rate_limit.rate"},
		{"routes: [{origin: a, rate_limit: {rate: .inf, burst: 1}}]\n", "routes[0].rate_limit.rate"},
	}
	for _, tc := range cases {
		_, err := Parse([]byte(rest+tc.yaml), "bad.yaml", "")
		var errs Errors
		if !errors.As(err, &errs) || len(errs) != 1 || errs[0].Key != tc.key || errs[0].Line < 3 {
			t.Errorf("%q: %v; want one %s error with its line", tc.yaml, err, tc.key)
		}
	}
}
