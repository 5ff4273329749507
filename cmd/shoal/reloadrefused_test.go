package main

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

// A refused SIGHUP reload names the file, line and key, as `shoal check` does, also when
// the file parses but changes a key read only at start (it said "edge: reload: listen
// addresses change only with a restart", no line, no key); and every refusal is counted in
// shoal_edge_reloads_total{result="refused"} (one the file's own errors refused was not, so
// an alert on that counter missed a typo).
func TestRun_refusedReloadsNameTheLineAndAreCounted(t *testing.T) {
	bin := testenv.ShoalBinary(t)
	httpAddr, adminAddr := testenv.FreePort(t), testenv.FreePort(t)
	file := filepath.Join(t.TempDir(), "shoal.yaml")
	write := func(http, extra string) {
		cfg := fmt.Sprintf(`node: {name: p}
listen:
  http: %q
  admin: %q
log: {access: "off"}
origins: {o: {servers: [{url: "http://127.0.0.1:9"}]}}
routes: [{origin: o}]
%s`, http, adminAddr, extra)
		if err := os.WriteFile(file, []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(httpAddr, "")
	cmd, logs := runLogged(t, bin, file)
	waitForLog(t, logs, "edge started")

	for i, tc := range []struct{ http, extra, want string }{
		{httpAddr, "limits: {read_timeout: 5x}\n", "shoal.yaml:8: limits.read_timeout: invalid duration"},
		{testenv.FreePort(t), "", "shoal.yaml:3: listen.http: changes only with a restart"},
	} {
		write(tc.http, tc.extra)
		cmd.Process.Signal(syscall.SIGHUP)
		lines := waitForLog(t, logs, "reload refused")
		if last := lines[len(lines)-1]; !strings.Contains(last, tc.want) {
			t.Errorf("refusal %d logged %s, want it to say %q", i+1, last, tc.want)
		}
		if got := refusedReloads(t, adminAddr); got != fmt.Sprint(i+1) {
			t.Errorf("after %d refused reloads, shoal_edge_reloads_total{result=\"refused\"} is %s", i+1, got)
		}
	}
}

// refusedReloads reads shoal_edge_reloads_total{result="refused"} from the admin listener.
func refusedReloads(t *testing.T, admin string) string {
	t.Helper()
	resp, err := http.Get("http://" + admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	s := bufio.NewScanner(resp.Body)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), `shoal_edge_reloads_total{result="refused"} `); ok {
			return v
		}
	}
	return "0"
}
