package conf

import (
	"errors"
	"strings"
	"testing"
)

// Routes are tried in order and the first match wins; nginx picks the longest prefix. An
// operator who wrote the catch-all first, as nginx allows, got a node where the routes after
// it never matched (nothing cached, no rate limit, the wrong pool) and `shoal check` said ok.
// A route that an earlier one leaves no request to is now refused, naming both.
func TestParse_aRouteAnEarlierOneLeavesNothingToIsRefused(t *testing.T) {
	const head = "listen: {http: \":80\"}\norigins: {a: {servers: [{url: \"http://127.0.0.1:1\"}]}}\nroutes:\n"
	for _, tc := range []struct {
		name, routes string
		shadowed     string // "" when every route can match
	}{
		{"catch-all first", "  - {origin: a, cache: false}\n  - {match: {path_prefix: /static/}, origin: a}\n", "routes[1]"},
		{"prefix / first", "  - {match: {path_prefix: /}, origin: a}\n  - {match: {extensions: [css]}, origin: a}\n", "routes[1]"},
		{"shorter prefix first", "  - {match: {path_prefix: /img}, origin: a}\n  - {match: {path_prefix: /img/big/, methods: [GET]}, origin: a}\n", "routes[1]"},
		{"same match twice", "  - {match: {host: [a.example], extensions: [css, js]}, origin: a}\n  - {match: {host: [A.example.], extensions: [js]}, origin: a}\n", "routes[1]"},
		{"wildcard host first", "  - {match: {host: [\"*.example.com\"]}, origin: a}\n  - {match: {host: [www.example.com, \"*.cdn.example.com\"]}, origin: a}\n", "routes[1]"},
		{"methods first", "  - {match: {methods: [GET, HEAD]}, origin: a}\n  - {match: {methods: [get], path_prefix: /x}, origin: a}\n", "routes[1]"},
		{"third after two", "  - {match: {path_prefix: /a}, origin: a}\n  - {match: {path_prefix: /b}, origin: a}\n  - {match: {path_prefix: /a/b}, origin: a}\n", "routes[2]"},

		{"specific first", "  - {match: {path_prefix: /static/}, origin: a}\n  - {origin: a, cache: false}\n", ""},
		{"other host", "  - {match: {host: [a.example]}, origin: a}\n  - {match: {host: [b.example]}, origin: a}\n", ""},
		{"wildcard does not take its apex", "  - {match: {host: [\"*.example.com\"]}, origin: a}\n  - {match: {host: [example.com]}, origin: a}\n", ""},
		{"extension set wider later", "  - {match: {extensions: [css]}, origin: a}\n  - {match: {extensions: [css, js]}, origin: a}\n", ""},
		{"regex first", "  - {match: {path_regex: \"^/a\"}, origin: a}\n  - {match: {path_prefix: /a}, origin: a}\n", ""},
		{"other method", "  - {match: {methods: [POST]}, origin: a}\n  - {match: {path_prefix: /}, origin: a}\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(head+tc.routes), "r.yaml", "")
			if tc.shadowed == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var errs Errors
			if !errors.As(err, &errs) || len(errs) != 1 || errs[0].Key != tc.shadowed+".match" && errs[0].Key != tc.shadowed {
				t.Fatalf("%v; want one error at %s", err, tc.shadowed)
			}
			if want := strings.Count(head+tc.routes, "\n") - strings.Count(tc.routes, "\n") + 1 + int(tc.shadowed[len("routes[")]-'0'); errs[0].Line != want {
				t.Errorf("line %d, want %d (the shadowed route's)", errs[0].Line, want)
			}
			if !strings.Contains(errs[0].Msg, "never matches") || !strings.Contains(errs[0].Msg, "line ") {
				t.Errorf("message %q does not say the route never matches and which earlier route's line takes its requests", errs[0].Msg)
			}
		})
	}
}
