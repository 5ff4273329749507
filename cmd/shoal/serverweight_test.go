package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

// A server's weight is a share, bounded as HAProxy bounds it (0-256), and a pool must have a
// server that can take a request: weight 0 drains one server, not all of them. Failed
// before: both files passed `shoal check`, and `shoal run` started a pool whose every
// request got 503 (all weights 0), or balanced by a typo (100000 for 100).
func TestCheck_serverWeightsRefusedAsRunRefusesThem(t *testing.T) {
	bin := testenv.ShoalBinary(t)
	const head = "listen: {http: \"127.0.0.1:0\", admin: \"127.0.0.1:0\"}\nroutes: [{origin: a}]\norigins:\n  a:\n    servers:\n"
	for _, c := range []struct{ name, servers, want string }{
		{"above 256", "      - {url: \"http://127.0.0.1:1\"}\n      - {url: \"http://127.0.0.1:2\", weight: 100000}\n",
			":7: origins.a.servers[1].weight: 100000 is above 256"},
		{"all drained", "      - {url: \"http://127.0.0.1:1\", weight: 0}\n      - {url: \"http://127.0.0.1:2\", weight: 0}\n",
			":5: origins.a.servers: every server weighs 0 and none is a backup"},
	} {
		file := filepath.Join(t.TempDir(), "shoal.yaml")
		if err := os.WriteFile(file, []byte(head+c.servers), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, cmd := range []string{"check", "run"} {
			if code, stderr := runWithDeadline(bin, cmd, "-c", file); code != 1 || !strings.Contains(stderr, file+c.want) {
				t.Errorf("%s: shoal %s exited %d with %q; want 1 and %q", c.name, cmd, code, stderr, file+c.want)
			}
		}
	}
	// Drained primaries behind a backup, and 256, are a working pool.
	file := filepath.Join(t.TempDir(), "shoal.yaml")
	ok := head + "      - {url: \"http://127.0.0.1:1\", weight: 0}\n      - {url: \"http://127.0.0.1:2\", weight: 256}\n      - {url: \"http://127.0.0.1:3\", weight: 0, backup: true}\n"
	if err := os.WriteFile(file, []byte(ok), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"check", "-c", file}, &stdout, &stderr); code != 0 {
		t.Errorf("a pool with weight 256 and a drained primary: check exited %d: %s", code, stderr.String())
	}
}
