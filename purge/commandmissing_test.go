package purge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/conf"
)

// A purge the node applied but a live member did not acknowledge returned nil, so `shoal
// purge` exited 0 and a deploy script took a cache that still served the old object for
// purged. Command prints the answer and returns an error wrapping ErrIncomplete naming the
// member; a purge every member acknowledged still returns nil.
func TestCommand_missingMembersAreAnError(t *testing.T) {
	tokenFile := filepath.Join(t.TempDir(), "purge.token")
	if err := os.WriteFile(tokenFile, []byte(testToken), 0o600); err != nil {
		t.Fatal(err)
	}
	// edge-2's peer port refuses connections: it never acknowledges.
	store := newTestMemory(t)
	svc := newTestService(t, conf.Purge{Token: testToken, Timeout: conf.Duration(300 * time.Millisecond)}, store,
		StaticCluster{Name: "edge-1", Members: []Peer{{Name: "edge-2", PeerAddr: "127.0.0.1:1"}}}, Options{Secret: testSecret})
	srv := httptest.NewServer(svc.AdminHandler())
	t.Cleanup(srv.Close)
	mustSet(t, store, object("http://www.example.com/a.css", ""))

	var stdout, stderr bytes.Buffer
	err := Command(context.Background(), []string{"--admin", srv.URL, "--token-file", tokenFile, "url", "http://www.example.com/a.css"}, &stdout, &stderr)
	if !errors.Is(err, ErrIncomplete) || !strings.Contains(err.Error(), "edge-2") {
		t.Fatalf("a purge edge-2 missed: error %v, want one wrapping ErrIncomplete naming edge-2", err)
	}
	var resp Response
	if err := json.Unmarshal(stdout.Bytes(), &resp); err != nil || !slices.Equal(resp.Missing, []string{"edge-2"}) || resp.Purged != 1 {
		t.Errorf("stdout %q (%v): want the answer, purged 1, missing [edge-2]", stdout.String(), err)
	}

	all := newAdminFixture(t, conf.Purge{Token: testToken})
	stdout.Reset()
	if err := Command(context.Background(), []string{"--admin", all.srv.URL, "--token-file", tokenFile, "all"}, &stdout, &stderr); err != nil {
		t.Errorf("a purge every member acknowledged: %v", err)
	}
}
