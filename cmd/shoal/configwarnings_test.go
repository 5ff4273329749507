package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// shoal check refuses tls.redirect_http without listen.https (key and line), and says ok to a
// file without routes but warns that every request gets 404.
func TestRun_checkRefusesRedirectWithoutHTTPSAndWarnsOfNoRoutes(t *testing.T) {
	dir := t.TempDir()
	write := func(name, cfg string) string {
		file := filepath.Join(dir, name)
		if err := os.WriteFile(file, []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
		return file
	}
	const listen = "listen: {http: \"127.0.0.1:0\", admin: \"127.0.0.1:0\"}\n"
	const route = "origins: {a: {servers: [{url: \"http://127.0.0.1:1\"}]}}\nroutes: [{origin: a}]\n"

	redirect := write("redirect.yaml", listen+route+"tls: {redirect_http: true}\n")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"check", "-c", redirect}, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), redirect+":4: tls.redirect_http: needs listen.https") {
		t.Errorf("redirect_http without https: exit %d, %q", code, stderr.String())
	}

	noRoutes := write("noroutes.yaml", listen+"routes: []\n")
	stdout.Reset()
	stderr.Reset()
	if code := run([]string{"check", "-c", noRoutes}, &stdout, &stderr); code != 0 || !strings.Contains(stderr.String(), noRoutes+":2: routes: warning: no routes") {
		t.Errorf("no routes: exit %d, stderr %q; want 0 and a warning naming routes and line 2", code, stderr.String())
	}

	stderr.Reset()
	if code := run([]string{"check", "-c", write("ok.yaml", listen+route)}, &stdout, &stderr); code != 0 || stderr.Len() != 0 {
		t.Errorf("one route: exit %d, stderr %q", code, stderr.String())
	}
}
