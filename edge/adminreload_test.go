package edge

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shoal-cdn/shoal/conf"
)

// POST /reload on the admin listener reloads Options.ConfigFile and answers the outcome: 200
// when applied, 422 naming file, line and key when refused (a bad value, a key read only at
// start), each refusal counted. The only way to reload was SIGHUP, which answers nothing:
// `systemctl reload` and deploy scripts could not tell a refused file from an applied one.
// GET is not a reload, and a node without a configuration file has no /reload.
func TestNode_adminReloadAnswersTheOutcome(t *testing.T) {
	o := startOrigin(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	file := filepath.Join(t.TempDir(), "shoal.yaml")
	write := func(listenHTTP, extra string) {
		yaml := fmt.Sprintf("listen:\n  http: %q\n  admin: \"127.0.0.1:0\"\n", listenHTTP) + oneRoute(false, o.URL) + extra
		if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("127.0.0.1:0", "")
	cfg, err := conf.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	n, err := New(cfg, Options{ConfigFile: file, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.Shutdown(t.Context()) })
	// The running addresses, so that only what a case changes differs.
	bound := n.rt.Load().cfg.Listen
	post := func() (int, string) {
		resp, err := http.Post("http://"+n.AdminAddr()+"/reload", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	fixAdmin := func() { // the file's admin address is the bound one
		data, _ := os.ReadFile(file)
		os.WriteFile(file, []byte(strings.Replace(string(data), `admin: "127.0.0.1:0"`, fmt.Sprintf("admin: %q", bound.Admin), 1)), 0o644)
	}

	write(bound.HTTP, "limits: {read_timeout: 7s}\n")
	fixAdmin()
	if st, body := post(); st != http.StatusOK || n.rt.Load().cfg.Limits.ReadTimeout.D().String() != "7s" {
		t.Errorf("a good file: %d %q, read_timeout %v; want 200 and 7s applied", st, body, n.rt.Load().cfg.Limits.ReadTimeout)
	}
	for _, tc := range []struct{ http, extra, want string }{
		{bound.HTTP, "limits: {read_timeout: 7x}\n", "shoal.yaml:" + fmt.Sprint(lineOf(t, file, "limits")) + ": limits.read_timeout"},
		{"127.0.0.1:1", "", "shoal.yaml:2: listen.http: changes only with a restart"},
	} {
		write(tc.http, tc.extra)
		fixAdmin()
		if st, body := post(); st != http.StatusUnprocessableEntity || !strings.Contains(body, tc.want) {
			t.Errorf("%q: %d %q; want 422 saying %q", tc.extra, st, body, tc.want)
		}
	}
	resp, err := http.Get("http://" + n.AdminAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if got := metricValue(string(metrics), `shoal_edge_reloads_total{result="refused"}`); got != 2 {
		t.Errorf("reloads_total{result=refused} = %v, want 2", got)
	}
	resp, err = http.Get("http://" + n.AdminAddr() + "/reload")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /reload: %d, want 405", resp.StatusCode)
	}

	plain := startNode(t, oneRoute(false, o.URL), Options{})
	resp, err = http.Post("http://"+plain.AdminAddr()+"/reload", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("POST /reload on a node without a configuration file: %d, want 404", resp.StatusCode)
	}
}

// lineOf is the line of the first line of file that starts with prefix.
func lineOf(t *testing.T, file, prefix string) int {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, prefix) {
			return i + 1
		}
	}
	return 0
}
