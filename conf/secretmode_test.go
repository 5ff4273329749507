package conf

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A secret file other users may read or write is a warning naming its key and line, whichever
// secret it is; 0600 and 0640 are not. Failed before: no warning for any (a 0666 purge token
// passed shoal check in silence).
func TestWarnings_secretFilesOpenToEveryUser(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("a-secret-of-more-than-16-characters"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	secret, accept, token := write("gossip.key", 0o644), write("old.key", 0o640), write("purge.token", 0o666)
	certKey := write("site.key", 0o604)
	yaml := `node: {name: a}
listen: {http: "127.0.0.1:8080", peer: "127.0.0.1:8081"}
cluster: {bind: "127.0.0.1:7946", secret_file: ` + secret + `, accept_secret_files: [` + accept + `]}
purge: {token_file: ` + token + `}
tls: {certificates: [{cert: ` + write("site.crt", 0o644) + `, key: ` + certKey + `}]}
origins: {o: {servers: [{url: "http://127.0.0.1:1"}]}}
routes: [{origin: o}]
`
	file := filepath.Join(dir, "shoal.yaml")
	cfg, err := Parse([]byte(yaml), file, dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range Warnings(cfg, file, []byte(yaml)) {
		got = append(got, w.Error())
	}
	all := strings.Join(got, "\n")
	for _, want := range []string{"shoal.yaml:3: cluster.secret_file: warning:", "shoal.yaml:4: purge.token_file: warning:", "shoal.yaml:5: tls.certificates[0].key: warning:"} {
		if !strings.Contains(all, want) {
			t.Errorf("no %q among the warnings:\n%s", want, all)
		}
	}
	if strings.Contains(all, "accept_secret_files") || strings.Contains(all, "site.crt") || len(got) != 3 {
		t.Errorf("warned of a file others cannot read:\n%s", all)
	}
}
