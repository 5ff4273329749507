package conf

import (
	"errors"
	"strings"
	"testing"
)

// tls.redirect_http without listen.https was ok: every plain-HTTP request then got a 301 to
// an https:// URL no listener served, a whole site down with a valid config. The key and line
// are named; with listen.https (and its certificate) it is still ok.
func TestParse_redirectHTTPNeedsAnHTTPSListener(t *testing.T) {
	const rest = "origins: {a: {servers: [{url: \"http://127.0.0.1:1\"}]}}\nroutes: [{origin: a}]\n"
	for _, yaml := range []string{
		"listen: {http: \"127.0.0.1:8080\"}\ntls: {redirect_http: true}\n",
		"listen: {http: \"127.0.0.1:8080\", h2c: \"127.0.0.1:8081\"}\ntls:\n  redirect_http: true\n",
	} {
		_, err := Parse([]byte(yaml+rest), "bad.yaml", "")
		var errs Errors
		want := 2
		if strings.Contains(yaml, "\n  redirect_http") {
			want = 3
		}
		if !errors.As(err, &errs) || len(errs) != 1 || errs[0].Key != "tls.redirect_http" || errs[0].Line != want {
			t.Errorf("%q: %v; want one tls.redirect_http error on line %d", yaml, err, want)
		}
	}
	if _, err := Parse([]byte("listen: {http: \"127.0.0.1:8080\"}\ntls: {redirect_http: false}\n"+rest), "ok.yaml", ""); err != nil {
		t.Errorf("redirect_http false: %v", err)
	}
}

// A configuration without routes parses (a gslb-only node, routes added by a later reload)
// but is warned of with its key and line, unless the node serves gslb.
func TestWarnings_noRoutes(t *testing.T) {
	const listen = "listen: {http: \"127.0.0.1:8080\"}\n"
	for _, c := range []struct {
		name, yaml string
		line       int
		warned     bool
	}{
		{"absent", listen, 0, true},
		{"empty list", listen + "routes: []\n", 2, true},
		{"one route", listen + "origins: {a: {servers: [{url: \"http://127.0.0.1:1\"}]}}\nroutes: [{origin: a}]\n", 0, false},
	} {
		cfg, err := Parse([]byte(c.yaml), "shoal.yaml", "")
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		ws := Warnings(cfg, "shoal.yaml", []byte(c.yaml))
		if !c.warned {
			if len(ws) != 0 {
				t.Errorf("%s: warnings %v", c.name, ws)
			}
			continue
		}
		if len(ws) != 1 || ws[0].Key != "routes" || ws[0].Line != c.line || !strings.Contains(ws[0].Error(), "404") {
			t.Errorf("%s: warnings %v; want one on routes, line %d", c.name, ws, c.line)
		}
	}
}
