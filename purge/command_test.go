package purge

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/shoal-cdn/shoal/conf"
)

func TestCommand_againstAdminAPI(t *testing.T) {
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "purge.token")
	wrongFile := filepath.Join(dir, "wrong.token")
	emptyFile := filepath.Join(dir, "empty.token")
	for file, content := range map[string]string{tokenFile: testToken + "\n", wrongFile: "not-the-token-at-all", emptyFile: "\n"} {
		if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	tests := []struct {
		name       string
		args       []string // --admin is added
		wantErr    string
		wantPurged int
		wantKeys   []string // objects gone (or marked, with soft)
		soft       bool
	}{
		{name: "url, flags first", args: []string{"--token-file", tokenFile, "url", "http://www.example.com/a.css"},
			wantPurged: 2, wantKeys: []string{"http://www.example.com/a.css|gzip", "http://www.example.com/a.css|br"}},
		{name: "flags after the positionals", args: []string{"key", "product-42", "--token-file", tokenFile, "--soft"},
			wantPurged: 2, wantKeys: []string{"http://www.example.com/img/1.png", "http://other.example.com/img/3.png"}, soft: true},
		{name: "flag between kind and value", args: []string{"prefix", "-token-file=" + tokenFile, "http://www.example.com/img/"},
			wantPurged: 2, wantKeys: []string{"http://www.example.com/img/1.png", "http://www.example.com/img/2.png"}},
		{name: "all", args: []string{"all", "--token-file", tokenFile}, wantPurged: 6},
		{name: "missing value", args: []string{"url", "--token-file", tokenFile}, wantErr: "url needs a value"},
		{name: "missing kind", args: []string{"--token-file", tokenFile}, wantErr: "missing kind"},
		{name: "unknown kind", args: []string{"ban", "req.url", "--token-file", tokenFile}, wantErr: `unknown kind "ban"`},
		{name: "all with a value", args: []string{"all", "x", "--token-file", tokenFile}, wantErr: "all takes no value"},
		{name: "two values", args: []string{"key", "a", "b", "--token-file", tokenFile}, wantErr: "takes one value"},
		{name: "unknown flag", args: []string{"all", "--hard", "--token-file", tokenFile}, wantErr: "flag provided but not defined"},
		{name: "no token file", args: []string{"all"}, wantErr: "--token-file is required"},
		{name: "unreadable token file", args: []string{"all", "--token-file", filepath.Join(dir, "nope")}, wantErr: "reading the token"},
		{name: "empty token file", args: []string{"all", "--token-file", emptyFile}, wantErr: "is empty"},
		{name: "server refusal carries its message", args: []string{"all", "--token-file", wrongFile}, wantErr: "401 Unauthorized: missing or wrong bearer token"},
		{name: "server validation message", args: []string{"url", "www.example.com/a.css", "--token-file", tokenFile}, wantErr: "400 Bad Request: invalid purge request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newAdminFixture(t, conf.Purge{Token: testToken})
			var stdout, stderr bytes.Buffer
			args := append([]string{"--admin", f.srv.URL + "/"}, tt.args...)

			err := Command(context.Background(), args, &stdout, &stderr)

			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Command(%q) error = %v; want one containing %q", tt.args, err, tt.wantErr)
				}
				f.untouched(t)
				return
			}
			if err != nil {
				t.Fatalf("Command(%q): %v (stderr %s)", tt.args, err, stderr.String())
			}
			var resp Response
			if err := json.Unmarshal(stdout.Bytes(), &resp); err != nil {
				t.Fatalf("stdout %q is not the JSON answer: %v", stdout.String(), err)
			}
			if resp.Purged != tt.wantPurged || !slices.Equal(resp.Acked, []string{"edge-1"}) {
				t.Errorf("answer %+v; want purged %d acked [edge-1]", resp, tt.wantPurged)
			}
			for _, key := range tt.wantKeys {
				o, ok := f.store.Get(key)
				if tt.soft && (!ok || !o.SoftPurged()) || !tt.soft && ok {
					t.Errorf("%s: present %v after the purge (soft %v)", key, ok, tt.soft)
				}
			}
		})
	}
}

func TestParseInterleaved_doubleDashEndsFlags(t *testing.T) {
	f := newAdminFixture(t, conf.Purge{Token: testToken})
	tokenFile := filepath.Join(t.TempDir(), "t")
	if err := os.WriteFile(tokenFile, []byte(testToken), 0o600); err != nil {
		t.Fatal(err)
	}
	mustSet(t, f.store, object("http://www.example.com/x", "", "-odd"))
	var stdout bytes.Buffer
	err := Command(context.Background(), []string{"--admin", f.srv.URL, "--token-file", tokenFile, "key", "--", "-odd"}, &stdout, &bytes.Buffer{})
	if err != nil {
		t.Fatalf("Command: %v", err)
	}
	if present(f.store, "http://www.example.com/x") {
		t.Error(`the key "-odd" given after -- was not purged`)
	}
}
