package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// shoal check refuses each kind of bad route policy value with file, line and key (issue 17).
func TestRun_checkRefusesBadPolicyWithKeyAndLine(t *testing.T) {
	head := "listen: {http: \":8080\"}\norigins: {a: {servers: [{url: \"http://127.0.0.1:1\"}]}}\nroutes:\n  - match: {path_prefix: /}\n    origin: a\n"
	cases := []struct {
		name, yaml, want string
	}{
		{"unknown variable", head + "    headers:\n      response:\n        set: {X-Edge: \"${hostname}\"}\n", "policy.yaml:8: routes[0].headers.response.set.X-Edge: unknown variable ${hostname}"},
		{"bad status", head + "    ttl:\n      status: {700: 1m}\n", "policy.yaml:7: routes[0].ttl.status.700: 700 is not an HTTP status"},
		{"bad redirect status", head + "  - match: {path_prefix: /old/}\n    redirect: {to: /new, status: 200}\n", "policy.yaml:7: routes[1].redirect.status: 200: one of 301, 302, 303, 307, 308"},
		{"overlapping allow and deny", head + "    access:\n      allow: [10.0.0.0/8]\n      deny: [10.20.0.0/16]\n", "policy.yaml:8: routes[0].access.deny[0]: 10.20.0.0/16 overlaps allow 10.0.0.0/8"},
		{"redirect without target", head + "  - match: {path_prefix: /old/}\n    redirect: {status: 301}\n", "policy.yaml:7: routes[1].redirect.to: missing: a redirect needs a target"},
		{"ttl below zero", head + "    ttl:\n      status: {200: -5m}\n", "policy.yaml:7: routes[0].ttl.status.200: invalid duration \"-5m\": negative"},
		{"error page for a status the node does not make", "listen: {http: \":8080\"}\nerror_pages:\n  200: ok.html\n", "policy.yaml:3: error_pages.200:"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "policy.yaml")
			if err := os.WriteFile(file, []byte(c.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			var stdout, stderr bytes.Buffer
			if code := run([]string{"check", "-c", file}, &stdout, &stderr); code != 1 {
				t.Errorf("exit %d, want 1", code)
			}
			if !strings.Contains(stderr.String(), c.want) {
				t.Errorf("check said %q, want %q", stderr.String(), c.want)
			}
		})
	}
}

// The WordPress example is a valid file.
func TestRun_checkAcceptsTheWordPressExample(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"check", "-c", "../../examples/wordpress/shoal.yaml"}, &stdout, &stderr); code != 0 {
		t.Errorf("exit %d: %s", code, stderr.String())
	}
}
