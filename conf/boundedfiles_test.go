package conf

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every file the configuration names was read whole with os.ReadFile, whatever it was:
// purge.token_file or an error page pointed by mistake at a device (/dev/zero, /dev/urandom)
// or a huge file made `shoal check` and `shoal run` (and each reload) read until the kernel
// killed the process, with no message (exit 137 on /dev/zero). Each is now refused unless it
// is a regular file within a bound that names the key.
func TestParse_filesItNamesMustBeRegularAndSmall(t *testing.T) {
	dir := t.TempDir()
	big := func(name string, size int) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(strings.Repeat("x", size)), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	const rest = "listen: {http: \":80\"}\norigins: {a: {servers: [{url: \"http://127.0.0.1:1\"}]}}\nroutes: [{origin: a}]\n"
	for _, tc := range []struct{ name, yaml, key string }{
		{"token over the bound", "purge: {token_file: " + big("tok", MaxSecretBytes+1) + "}\n", "purge.token_file"},
		{"error page over the bound", "error_pages: {503: " + big("page.html", MaxPageBytes+1) + "}\n", "error_pages.503"},
		{"token on a device", "purge: {token_file: /dev/zero}\n", "purge.token_file"},
		{"gossip secret on a device", "cluster: {secret_file: /dev/zero}\n", "cluster.secret_file"},
		{"error page on a device", "error_pages: {503: /dev/zero}\n", "error_pages.503"},
		{"token is a directory", "purge: {token_file: " + dir + "}\n", "purge.token_file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(rest+tc.yaml), "f.yaml", dir)
			var errs Errors
			if !errors.As(err, &errs) || !slicesContainsKey(errs, tc.key) {
				t.Fatalf("%v; want an error at %s", err, tc.key)
			}
		})
	}
	if _, err := Load(big("huge.yaml", MaxConfigBytes+1)); err == nil || !strings.Contains(err.Error(), "huge.yaml") {
		t.Errorf("a configuration file over the bound: %v, want a refusal naming it", err)
	}
	if _, err := Load("/dev/zero"); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("shoal check -c /dev/zero: %v, want a refusal", err)
	}
}

func slicesContainsKey(errs Errors, key string) bool {
	for _, e := range errs {
		if e.Key == key && e.Line > 0 {
			return true
		}
	}
	return false
}
