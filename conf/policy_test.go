package conf

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The sketch, verbatim in its keys: it must load, and its values must reach the policy.
const policySketch = `listen: {http: ":80"}
origins:
  static: {servers: [{url: "http://127.0.0.1:1"}]}
policy:
  headers:
    response: {set: {X-Frame-Options: SAMEORIGIN}}
  ttl: {status: {200: 10m}}
routes:
  - match: {extensions: [css, js, png, jpg, svg, woff2]}
    origin: static
    cache: true
    ttl: {status: {200: 1d, 404: 1m}, override: false, min: 0s, max: 7d}
    cache_key: {ignore_params: ["utm_*", gclid, fbclid], sort_params: false,
                include_headers: [], include_cookies: [], ignore_host: false}
    cookies: {strip_request: true, strip_set_cookie: true, bypass_if: ["wordpress_logged_in_*"]}
    headers:
      request:  {set: {X-Edge: "${node}"}, remove: [X-Debug]}
      response: {set: {Strict-Transport-Security: "max-age=31536000"}, remove: [X-Powered-By]}
    rewrite: {strip_prefix: /assets}
    access: {allow: [10.0.0.0/8], deny: []}
  - match: {path_prefix: /old/}
    redirect: {to: "https://www.example.com/new${path_after_prefix}", status: 301}
  - match: {path_prefix: /}
    origin: static
    headers: {}
error_pages: {502: 502.html, 503: 503.html, maintenance: false}
`

func TestParse_policySketch(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"502.html", "503.html"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("<h1>"+f+"</h1>"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := Parse([]byte(policySketch), "shoal.yaml", dir)
	if err != nil {
		t.Fatal(err)
	}
	p := cfg.Routes[0].Policy()
	if p.TTL.Status[200] != 24*time.Hour || p.TTL.Status[404] != time.Minute || p.TTL.Max != 7*24*time.Hour {
		t.Errorf("ttl: %+v", p.TTL)
	}
	if strings.Join(p.Key.IgnoreParams, ",") != "utm_*,gclid,fbclid" || !p.Cookies.StripRequest || !p.Cookies.StripSetCookie {
		t.Errorf("key %+v cookies %+v", p.Key, p.Cookies)
	}
	if p.Request.Set["X-Edge"] != "${node}" || p.Response.Remove[0] != "X-Powered-By" || p.Rewrite.StripPrefix != "/assets" {
		t.Errorf("headers %+v %+v rewrite %+v", p.Request, p.Response, p.Rewrite)
	}
	if p.Response.Set["X-Frame-Options"] != "" {
		t.Error("a route's own headers section did not replace the default")
	}
	if len(p.Access.Allow) != 1 || p.Access.Allow[0].String() != "10.0.0.0/8" {
		t.Errorf("access: %+v", p.Access)
	}
	if r := cfg.Routes[1]; r.Redirect.Status != 301 || r.Origin != "" {
		t.Errorf("redirect route: %+v", r.Redirect)
	}
	// Route 2 writes headers: {} (no default headers) and inherits the default ttl.
	p2 := cfg.Routes[2].Policy()
	if len(p2.Response.Set) != 0 || p2.TTL.Status[200] != 10*time.Minute {
		t.Errorf("route 2: headers %+v ttl %+v", p2.Response, p2.TTL)
	}
	// Route 1 inherits the default headers.
	if cfg.Routes[1].Policy().Response.Set["X-Frame-Options"] != "SAMEORIGIN" {
		t.Error("route 1 did not inherit the default headers")
	}
	pages := cfg.ErrorPagesPolicy()
	if pg, ok := pages.Page(503); !ok || string(pg.Body) != "<h1>503.html</h1>" || pages.Maintenance {
		t.Errorf("error pages: %+v", pages)
	}
}

// Each kind of bad policy value is refused with its key and line.
func TestParse_policyErrorsNameKeyAndLine(t *testing.T) {
	head := "listen: {http: \":80\"}\norigins: {a: {servers: [{url: \"http://h\"}]}}\nroutes:\n  - match: {path_prefix: /}\n    origin: a\n"
	cases := []struct {
		name, yaml, key string
		line            int
		msg             string
	}{
		{"unknown variable", head + "    headers:\n      request:\n        set: {X-Edge: \"${nodename}\"}\n", "routes[0].headers.request.set.X-Edge", 8, "unknown variable ${nodename}"},
		{"unknown variable in response add", head + "    headers:\n      response:\n        add:\n          X-A: \"${ip}\"\n", "routes[0].headers.response.add.X-A", 9, "unknown variable ${ip}"},
		{"lone dollar", head + "    headers:\n      response:\n        set: {X-Price: \"$5\"}\n", "routes[0].headers.response.set.X-Price", 8, "lone $"},
		{"bad field name", head + "    headers:\n      response:\n        set: {\"X Bad\": x}\n", "routes[0].headers.response.set.X Bad", 8, "not a field name"},
		{"bad ttl status", head + "    ttl:\n      status: {999: 1m}\n", "routes[0].ttl.status.999", 7, "not an HTTP status"},
		{"ttl status not a number", head + "    ttl:\n      status: {ok: 1m}\n", "routes[0].ttl.status.ok", 7, "wrong type"},
		{"ttl below zero", head + "    ttl:\n      status:\n        200: -1m\n", "routes[0].ttl.status.200", 8, "negative"},
		{"ttl min below zero", head + "    ttl:\n      min: -1d\n", "routes[0].ttl.min", 7, "negative"},
		{"ttl min above max", head + "    ttl:\n      min: 2h\n      max: 1h\n", "routes[0].ttl.min", 7, "above ttl.max"},
		{"bad redirect status", head + "  - match: {path_prefix: /old/}\n    redirect:\n      to: /new\n      status: 200\n", "routes[1].redirect.status", 9, "one of 301"},
		{"redirect without target", head + "  - match: {path_prefix: /old/}\n    redirect:\n      status: 301\n", "routes[1].redirect.to", 7, "needs a target"},
		{"redirect unknown variable", head + "  - match: {path_prefix: /old/}\n    redirect: {to: \"/new${rest}\"}\n", "routes[1].redirect.to", 7, "unknown variable ${rest}"},
		{"redirect bad regex", head + "  - match: {path_prefix: /old/}\n    redirect: {to: /x, regex: \"(\"}\n", "routes[1].redirect.regex", 7, "missing closing"},
		{"redirect cached", head + "  - match: {path_prefix: /old/}\n    cache: true\n    redirect: {to: /x}\n", "routes[1].cache", 7, "nothing to cache"},
		{"overlapping allow and deny", head + "    access:\n      allow: [10.0.0.0/8]\n      deny:\n        - 10.1.0.0/16\n", "routes[0].access.deny[0]", 9, "overlaps allow 10.0.0.0/8"},
		{"bad cidr", head + "    access:\n      allow: [10.0.0.0/33]\n", "routes[0].access.allow[0]", 7, "not a CIDR"},
		{"bad ignore_params glob", head + "    cache_key:\n      ignore_params: [\"*utm\"]\n", "routes[0].cache_key.ignore_params[0]", 7, "prefix written name*"},
		{"bad bypass_if glob", head + "    cookies:\n      bypass_if: [\"\"]\n", "routes[0].cookies.bypass_if[0]", 7, "prefix written name*"},
		{"bad include header", head + "    cache_key:\n      include_headers: [\"X:Y\"]\n", "routes[0].cache_key.include_headers[0]", 7, "not a field"},
		{"rewrite without slash", head + "    rewrite:\n      strip_prefix: assets\n", "routes[0].rewrite.strip_prefix", 7, "must start with /"},
		{"body limit above the node's", head + "    max_body_bytes: 32MiB\n", "routes[0].max_body_bytes", 6, "above limits.max_body_bytes 16MiB"},
		{"negative body limit", head + "    max_body_bytes: -1KiB\n", "routes[0].max_body_bytes", 6, "negative"},
		{"default unknown variable", "listen: {http: \":80\"}\npolicy:\n  headers:\n    response:\n      set: {X-A: \"${nope}\"}\n", "policy.headers.response.set.X-A", 5, "unknown variable"},
		{"error page status", "listen: {http: \":80\"}\nerror_pages:\n  200: ok.html\n", "error_pages.200", 3, "a status the node answers itself"},
		{"error page missing file", "listen: {http: \":80\"}\nerror_pages:\n  503: /nonexistent/503.html\n", "error_pages.503", 3, "no such file"},
		{"maintenance not a bool", "listen: {http: \":80\"}\nerror_pages:\n  maintenance: sometimes\n", "error_pages.maintenance", 3, "true or false"},
		{"route sets Content-Length", head + "    headers:\n      request:\n        set: {content-length: \"0\"}\n", "routes[0].headers.request.set.content-length", 8, "Content-Length is written by the node"},
		{"route sets Transfer-Encoding", head + "    headers:\n      request:\n        set: {Transfer-Encoding: chunked}\n", "routes[0].headers.request.set.Transfer-Encoding", 8, "Transfer-Encoding is written by the node"},
		{"route adds Connection", head + "    headers:\n      request:\n        add: {Connection: close}\n", "routes[0].headers.request.add.Connection", 8, "Connection is written by the node"},
		{"route sets Upgrade on responses", head + "    headers:\n      response:\n        set: {Upgrade: h2c}\n", "routes[0].headers.response.set.Upgrade", 8, "Upgrade is written by the node"},
		{"route sets response Content-Length", head + "    headers:\n      response:\n        set: {Content-Length: \"5\"}\n", "routes[0].headers.response.set.Content-Length", 8, "Content-Length is written by the node"},
		{"default sets Keep-Alive", "listen: {http: \":80\"}\npolicy:\n  headers:\n    request:\n      set: {Keep-Alive: \"timeout=5\"}\n", "policy.headers.request.set.Keep-Alive", 5, "Keep-Alive is written by the node"},
		{"route adds a second Host", head + "    headers:\n      request:\n        add: {Host: www.example.com}\n", "routes[0].headers.request.add.Host", 8, "one Host"},
		{"route removes Host", head + "    headers:\n      request:\n        remove: [host]\n", "routes[0].headers.request.remove[0]", 8, "must carry Host"},
		{"unknown policy key", head + "    cookies:\n      strip: true\n", "routes[0].cookies.strip", 7, "unknown key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml), "bad.yaml", "")
			var errs Errors
			if !errors.As(err, &errs) || len(errs) == 0 {
				t.Fatalf("want conf.Errors, got %v", err)
			}
			e := problemAt(errs, tc.key)
			if e.Key != tc.key || e.Line != tc.line || !strings.Contains(e.Msg, tc.msg) {
				t.Errorf("got key=%q line=%d msg=%q (%v); want key=%q line=%d msg~%q", e.Key, e.Line, e.Msg, err, tc.key, tc.line, tc.msg)
			}
		})
	}
}

func TestParseDuration_days(t *testing.T) {
	good := map[string]time.Duration{"1d": 24 * time.Hour, "7d": 7 * 24 * time.Hour, "1d12h": 36 * time.Hour, "90s": 90 * time.Second, "0s": 0}
	for in, want := range good {
		if got, err := parseDuration(in); err != nil || got != want {
			t.Errorf("parseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"d", "1dd", "1d-1h", "x1d", "1.5d"} {
		if _, err := parseDuration(bad); err == nil {
			t.Errorf("parseDuration(%q) accepted", bad)
		}
	}
}
