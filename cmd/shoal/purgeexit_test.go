package main

import (
	"bytes"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/cachestore"
	"github.com/shoal-cdn/shoal/conf"
	"github.com/shoal-cdn/shoal/purge"
)

// `shoal purge` exited 0 when the answer listed members as missing: a script could not tell a
// purge that reached every node from one that did not. It exits 3 then (documented in --help),
// 0 when every member acknowledged, 1 when nothing was purged.
func TestRun_purgeExitStatusSaysWhetherEveryMemberAcknowledged(t *testing.T) {
	const token = "tok-tok-tok-tok-tok"
	tokenFile := filepath.Join(t.TempDir(), "purge.token")
	if err := os.WriteFile(tokenFile, []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}
	admin := func(peers []purge.Peer) string {
		store, err := cachestore.NewMemory(cachestore.Config{MaxBytes: 16 << 20}, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(store.Close)
		svc, err := purge.New(conf.Purge{Token: token, Timeout: conf.Duration(200 * time.Millisecond)}, store,
			purge.StaticCluster{Name: "edge-1", Members: peers}, purge.Options{Secret: "0123456789abcdef-secret"})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(svc.AdminHandler())
		t.Cleanup(srv.Close)
		return srv.URL
	}
	alone := admin(nil)
	missing := admin([]purge.Peer{{Name: "edge-2", PeerAddr: "127.0.0.1:1"}}) // refuses connections
	for _, c := range []struct {
		name  string
		admin string
		token string
		want  int
	}{
		{"every member acknowledged", alone, tokenFile, 0},
		{"edge-2 missing", missing, tokenFile, 3},
		{"no token: nothing purged", alone, filepath.Join(t.TempDir(), "none"), 1},
	} {
		var stdout, stderr bytes.Buffer
		code := run([]string{"purge", "--admin", c.admin, "--token-file", c.token, "all"}, &stdout, &stderr)
		if code != c.want {
			t.Errorf("%s: exit %d, want %d (stderr %q)", c.name, code, c.want, stderr.String())
		}
		if c.want == 3 && (!strings.Contains(stdout.String(), `"missing":["edge-2"]`) || !strings.Contains(stderr.String(), "edge-2")) {
			t.Errorf("%s: stdout %q stderr %q: want the answer and edge-2 named", c.name, stdout.String(), stderr.String())
		}
	}
	var stdout, stderr bytes.Buffer
	run([]string{"help"}, &stdout, &stderr)
	if !strings.Contains(stdout.String(), "exit 3") {
		t.Errorf("--help does not document exit 3:\n%s", stdout.String())
	}
}
