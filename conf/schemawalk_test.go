package conf

import (
	"errors"
	"strings"
	"testing"
)

// yaml.v3 truncates a float decoded into an int field without a word: `max_conns: 0.5` was
// 0, the default of 65536; `weight: 2.5` was 2. Sizes cut a fraction of a byte the same way.
// Each now names its key and line, as nginx -t refuses "1.5" for a number.
func TestParse_fractionsWhereWholeNumbersGoAreErrors(t *testing.T) {
	const rest = "listen: {http: \":80\"}\nroutes: [{origin: a}]\n"
	const pool = "origins:\n  a: {servers: [{url: \"http://127.0.0.1:1\"}]}\n"
	for _, tc := range []struct{ yaml, key, msg string }{
		{pool + "limits: {max_conns: 0.5}\n", "limits.max_conns", "0.5 is not a whole number"},
		{pool + "node: {weight: 2.5}\n", "node.weight", "2.5 is not a whole number"},
		{"origins:\n  a: {servers: [{url: \"http://127.0.0.1:1\", weight: 1.5}]}\n", "origins.a.servers[0].weight", "1.5 is not a whole number"},
		{"origins:\n  a: {servers: [{url: \"http://127.0.0.1:1\"}], health: {rise: 1.9}}\n", "origins.a.health.rise", "1.9 is not a whole number"},
		{pool + "gslb: {listen: \"127.0.0.1:53\", zone: c., names: [www], ttl: -0.5}\n", "gslb.ttl", "-0.5 is not a whole number"},
		{pool + "policy: {ttl: {status: {200.5: 1m}}}\n", "policy.ttl.status.200.5", "200.5 is not a whole number"},
		{pool + "limits: {max_body_bytes: 2.5}\n", "limits.max_body_bytes", "not a whole number of bytes"},
		{pool + "x: &n {max_conns: 3.5}\nlimits: *n\n", "limits.max_conns", "3.5 is not a whole number"},
		// Brought in by a merge key: decoded into the pool b as if written there.
		{"origins:\n  a: &a {servers: [{url: \"http://127.0.0.1:1\"}], max_queue: 0.5}\n  b: {<<: *a, servers: [{url: \"http://127.0.0.1:2\"}]}\n", "origins.b.max_queue", "0.5 is not a whole number"},
	} {
		_, err := Parse([]byte(rest+tc.yaml), "bad.yaml", "")
		var errs Errors
		if !errors.As(err, &errs) {
			t.Errorf("%q: %v; want an error at %s", tc.yaml, err, tc.key)
			continue
		}
		found := false
		for _, e := range errs {
			found = found || e.Key == tc.key && e.Line > 2 && strings.Contains(e.Msg, tc.msg)
		}
		if !found {
			t.Errorf("%q: %v; want %s on its line saying %q", tc.yaml, err, tc.key, tc.msg)
		}
	}
	// Whole numbers written as floats (1e3) and fractions of a unit that are whole bytes stay.
	ok := "listen: {http: \":80\"}\norigins:\n  a: {servers: [{url: \"http://127.0.0.1:1\"}]}\nroutes: [{origin: a}]\nlimits: {max_conns: 1e3, max_body_bytes: 1.5MiB}\n"
	cfg, err := Parse([]byte(ok), "ok.yaml", "")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if cfg.Limits.MaxConns != 1000 || cfg.Limits.MaxBodyBytes != 3<<19 {
		t.Errorf("max_conns %d, max_body_bytes %d; want 1000 and 1.5MiB", cfg.Limits.MaxConns, cfg.Limits.MaxBodyBytes)
	}
}

// yaml.v3 drops a null list item: a lone "-" before two routes left two, so the problem in
// the third written was named routes[1], on the line of the second; a null header value
// was dropped too. Each is now refused where it stands.
func TestParse_emptyListItemsAreErrorsWhereTheyStand(t *testing.T) {
	const head = "listen: {http: \":80\"}\norigins: {web: {servers: [{url: \"http://127.0.0.1:1\"}]}}\n"
	for _, tc := range []struct {
		yaml, key string
		line      int
	}{
		{"routes:\n  -\n  - {origin: web}\n", "routes[0]", 4},
		{"routes: [{origin: web}, ~]\n", "routes[1]", 3},
		{"routes: [{origin: web, match: {extensions: [css, null]}}]\n", "routes[0].match.extensions[1]", 3},
		{"routes: [{origin: web}]\ntls: {certificates: [~]}\n", "tls.certificates[0]", 4},
		{"routes: [{origin: web}]\npolicy: {headers: {request: {set: {X-A: ~}}}}\n", "policy.headers.request.set.X-A", 4},
	} {
		_, err := Parse([]byte(head+tc.yaml), "bad.yaml", "")
		var errs Errors
		if !errors.As(err, &errs) || len(errs) != 1 || errs[0].Key != tc.key || errs[0].Line != tc.line {
			t.Errorf("%q: %v; want one error at %s on line %d", tc.yaml, err, tc.key, tc.line)
		}
	}
}

// An empty file (a deploy that wrote nothing, a file of comments) was refused as
// "listen: needs http or https", which sent the operator looking for a mistyped key.
func TestParse_anEmptyFileSaysItIsEmpty(t *testing.T) {
	for _, file := range []string{"", "\n\n", "# all commented out\n# listen: {http: \":80\"}\n", "~\n", "---\n"} {
		_, err := Parse([]byte(file), "empty.yaml", "")
		var errs Errors
		if !errors.As(err, &errs) || len(errs) != 1 || !strings.Contains(errs[0].Msg, "the file is empty") || errs[0].File != "empty.yaml" {
			t.Errorf("%q: %v; want one error saying the file is empty", file, err)
		}
	}
}
