package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

// A node that cannot start names the file, the line and the key whose value failed, as
// `shoal check` and refused reloads do: each listener whose port is taken (listen.http,
// listen.admin, listen.peer, cluster.bind), and a certificate pair that is on disk but does not
// load (tls.certificates[i]), at start and on a SIGHUP reload. The process exits 1. Failed
// before: "edge: listen admin 127.0.0.1:N: listen tcp ...: address already in use" and
// "edge: tls: tlscert: certificate 1: ...", no file, line or key.
func TestRun_startErrorsNameTheKeyAndLine(t *testing.T) {
	bin := testenv.ShoalBinary(t)
	dir := t.TempDir()
	writeCert(t, dir, "good", time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour))
	bad := filepath.Join(dir, "bad.crt")
	if err := os.WriteFile(bad, []byte("not a certificate\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	busy := taken.Addr().String()
	secret := filepath.Join(dir, "gossip.key")
	if err := os.WriteFile(secret, []byte("cluster-secret-for-tests-0123456789"), 0o600); err != nil {
		t.Fatal(err)
	}
	good := fmt.Sprintf("{cert: %s, key: %s}", filepath.Join(dir, "good.crt"), filepath.Join(dir, "good.key"))
	broken := fmt.Sprintf("{cert: %s, key: %s}", bad, filepath.Join(dir, "good.key"))
	// bind "" leaves the cluster out (and peer with it), on the same lines.
	config := func(http, admin, peer, bind, certs string) string {
		cluster := fmt.Sprintf("{bind: %q, secret_file: %s}", bind, secret)
		if bind == "" {
			cluster = "{}"
		}
		return fmt.Sprintf(`node: {name: s}
listen:
  http: %q
  admin: %q
  peer: %q
  https: %q
cluster: %s
tls:
  certificates:
    - %s
    - %s
log: {access: "off"}
origins: {o: {servers: [{url: "http://127.0.0.1:9"}]}}
routes: [{origin: o}]
`, http, admin, peer, testenv.FreePort(t), cluster, good, certs)
	}
	free := testenv.FreePort
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"listen.http", config(busy, free(t), free(t), free(t), good), "shoal.yaml:3: listen.http: "},
		{"listen.admin", config(free(t), busy, free(t), free(t), good), "shoal.yaml:4: listen.admin: "},
		{"listen.peer", config(free(t), free(t), busy, free(t), good), "shoal.yaml:5: listen.peer: "},
		{"cluster.bind", config(free(t), free(t), free(t), busy, good), "shoal.yaml:7: cluster.bind: "},
		{"certificate", config(free(t), free(t), free(t), free(t), broken), "shoal.yaml:11: tls.certificates[1]: "},
	} {
		file := filepath.Join(t.TempDir(), "shoal.yaml")
		if err := os.WriteFile(file, []byte(tc.yaml), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(bin, "run", "-c", file).CombinedOutput()
		var exit *exec.ExitError
		if ok := asExit(err, &exit); !ok || exit.ExitCode() != 1 {
			t.Errorf("%s: exit %v, want status 1", tc.name, err)
		}
		if !strings.Contains(string(out), tc.want) {
			t.Errorf("%s: the error does not say %q:\n%s", tc.name, tc.want, out)
		}
	}

	// The same certificate on a reload: refused, naming the key and line. A node of one
	// (fewer ports to find free while other tests bind theirs).
	file := filepath.Join(t.TempDir(), "shoal.yaml")
	yaml := config(free(t), free(t), "", "", good)
	if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd, logs := runLogged(t, bin, file)
	waitForLog(t, logs, "edge started")
	if err := os.WriteFile(file, []byte(strings.Replace(yaml, "    - "+good+"\nlog", "    - "+broken+"\nlog", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd.Process.Signal(syscall.SIGHUP)
	lines := waitForLog(t, logs, "reload refused")
	if last := lines[len(lines)-1]; !strings.Contains(last, "shoal.yaml:11: tls.certificates[1]: ") {
		t.Errorf("the refused reload logged %s, want the certificate's key and line", last)
	}
}

func asExit(err error, exit **exec.ExitError) bool {
	e, ok := err.(*exec.ExitError)
	*exit = e
	return ok
}
