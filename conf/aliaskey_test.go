package conf

import (
	"errors"
	"testing"
)

// A mapping anchored under one key and aliased under another stands on one line under both
// paths. An unknown key in it was named under whichever path sorted first: here
// cache.fill_timeout, which is valid, for the fill_timeout policy does not take.
func TestParse_unknownKeyThroughAnAliasNamesTheSectionThatRefusesIt(t *testing.T) {
	for _, tc := range []struct {
		file, key string
		line      int
	}{
		{"cache: &c {fill_timeout: 10s}\npolicy: *c\n", "policy.fill_timeout", 2},
		{"policy: &p {cookies: {strip_request: true}}\nlimits: *p\n", "limits.cookies", 2},
		{"origins:\n  a: &s {servers: [{url: \"http://127.0.0.1:1\"}]}\nroutes: [{origin: a}, {origin: a, match: *s}]\n", "routes[1].match.servers", 3},
	} {
		_, err := Parse([]byte("listen: {http: \":80\"}\n"+tc.file), "a.yaml", "")
		var errs Errors
		if !errors.As(err, &errs) || len(errs) != 1 || errs[0].Key != tc.key || errs[0].Line != tc.line || errs[0].Msg != "unknown key" {
			t.Errorf("%q: %v; want one unknown key %s on line %d", tc.file, err, tc.key, tc.line)
		}
	}
}
