package purge

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shoal-cdn/shoal/conf"
)

// TestCommand_badFlagValues: `shoal purge --timeout 0` (or -1s) sent nothing and said
// "context deadline exceeded", as if the node had not answered, and --admin without a scheme
// ("127.0.0.1:9090", as listen.admin is written) said "first path segment in URL cannot
// contain colon". Both are refused as the flags they are, before anything is sent.
func TestCommand_badFlagValues(t *testing.T) {
	tokenFile := filepath.Join(t.TempDir(), "purge.token")
	if err := os.WriteFile(tokenFile, []byte(testToken), 0o600); err != nil {
		t.Fatal(err)
	}
	f := newAdminFixture(t, conf.Purge{Token: testToken})
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--admin", f.srv.URL, "--timeout", "0", "all"}, "--timeout"},
		{[]string{"--admin", f.srv.URL, "--timeout", "-1s", "all"}, "--timeout"},
		{[]string{"--admin", strings.TrimPrefix(f.srv.URL, "http://"), "all"}, "--admin"},
		{[]string{"--admin", "ftp://" + strings.TrimPrefix(f.srv.URL, "http://"), "all"}, "--admin"},
		{[]string{"--admin", "http://", "all"}, "--admin"},
	} {
		var stdout, stderr bytes.Buffer
		err := Command(context.Background(), append(tc.args, "--token-file", tokenFile), &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v; want an error naming %s", tc.args, err, tc.want)
		}
		f.untouched(t)
	}
}
