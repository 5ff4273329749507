package conf

import (
	"errors"
	"strings"
	"testing"
)

// A bad value in the top-level policy block is reported once, under the key and line the
// user wrote (policy.…), never again under each route that inherits it (routes[i].…, which
// names a key the file does not have). Failed before: every inheriting route repeated the
// error under its own key, and policy.max_body_bytes was named routes[0].max_body_bytes on
// the routes line.
func TestParse_inheritedPolicyErrorsNameThePolicyKey(t *testing.T) {
	const routes = "origins: {a: {servers: [{url: \"http://h\"}]}}\nroutes:\n  - match: {path_prefix: /a/}\n    origin: a\n  - match: {path_prefix: /}\n    origin: a\n"
	cases := []struct {
		name, policy, key string
		line              int
		msg               string
	}{
		{"max_body_bytes above the node's", "  max_body_bytes: 32MiB\n", "policy.max_body_bytes", 3, "above limits.max_body_bytes 16MiB"},
		{"ttl status", "  ttl:\n    status: {999: 1m}\n", "policy.ttl.status.999", 4, "not an HTTP status"},
		{"ttl min above max", "  ttl:\n    min: 2h\n    max: 1h\n", "policy.ttl.min", 4, "above ttl.max"},
		{"cache_key ignore_params", "  cache_key:\n    ignore_params: [\"*utm\"]\n", "policy.cache_key.ignore_params[0]", 4, "prefix written name*"},
		{"cache_key include_headers", "  cache_key:\n    include_headers: [\"X:Y\"]\n", "policy.cache_key.include_headers[0]", 4, "not a field"},
		{"cache_key include_cookies", "  cache_key:\n    include_cookies: [\"a b\"]\n", "policy.cache_key.include_cookies[0]", 4, "not a field or cookie"},
		{"cookies bypass_if", "  cookies:\n    bypass_if: [\"\"]\n", "policy.cookies.bypass_if[0]", 4, "prefix written name*"},
		{"headers request", "  headers:\n    request:\n      set: {X-A: \"${nope}\"}\n", "policy.headers.request.set.X-A", 5, "unknown variable"},
		{"headers response remove", "  headers:\n    response:\n      remove: [\"a b\"]\n", "policy.headers.response.remove[0]", 5, "not a field name"},
		{"access cidr", "  access:\n    allow: [10.0.0.0/33]\n", "policy.access.allow[0]", 4, "not a CIDR"},
		{"access overlap", "  access:\n    allow: [10.0.0.0/8]\n    deny: [10.1.0.0/16]\n", "policy.access.deny[0]", 5, "overlaps allow"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			yaml := "listen: {http: \":80\"}\npolicy:\n" + tc.policy + routes
			_, err := Parse([]byte(yaml), "bad.yaml", "")
			var errs Errors
			if !errors.As(err, &errs) || len(errs) == 0 {
				t.Fatalf("want conf.Errors, got %v", err)
			}
			if len(errs) != 1 {
				t.Errorf("%d errors, want one:\n%v", len(errs), err)
			}
			e := errs[0]
			if e.Key != tc.key || e.Line != tc.line || !strings.Contains(e.Msg, tc.msg) {
				t.Errorf("got key=%q line=%d msg=%q; want key=%q line=%d msg~%q", e.Key, e.Line, e.Msg, tc.key, tc.line, tc.msg)
			}
		})
	}
}

// A route that writes a section replaces the default whole: its own bad value is named
// under the route, and a bad default it does not inherit is named once under policy.
func TestParse_routeSectionErrorsNameTheRouteKey(t *testing.T) {
	yaml := "listen: {http: \":80\"}\npolicy:\n  max_body_bytes: 1MiB\n  ttl:\n    status: {999: 1m}\n  cookies: {bypass_if: [\"\"]}\n" +
		"origins: {a: {servers: [{url: \"http://h\"}]}}\nroutes:\n  - match: {path_prefix: /}\n    origin: a\n" +
		"    max_body_bytes: 32MiB\n    ttl:\n      status: {600: 1m}\n"
	_, err := Parse([]byte(yaml), "bad.yaml", "")
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("want conf.Errors, got %v", err)
	}
	want := map[string]int{"policy.ttl.status.999": 5, "policy.cookies.bypass_if[0]": 6, "routes[0].max_body_bytes": 11, "routes[0].ttl.status.600": 13}
	for _, e := range errs {
		line, ok := want[e.Key]
		if !ok || line != e.Line {
			t.Errorf("unexpected error key=%q line=%d: %s", e.Key, e.Line, e.Msg)
		}
		delete(want, e.Key)
	}
	for k, l := range want {
		t.Errorf("missing error for %s (line %d)", k, l)
	}
}
