package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

// A real process: SIGHUP switches error_pages.maintenance on and off, and swaps a route's
// response field rules (issue 17: policy is part of the settings a reload replaces).
func TestRun_sighupSwapsPolicyAndMaintenance(t *testing.T) {
	bin := testenv.ShoalBinary(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "site") })}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "503.html"), []byte("<h1>maintenance</h1>"), 0o644); err != nil {
		t.Fatal(err)
	}
	httpAddr, adminAddr := testenv.FreePort(t), testenv.FreePort(t)
	file := filepath.Join(dir, "shoal.yaml")
	write := func(maintenance bool, frame string) {
		cfg := fmt.Sprintf(`node: {name: p}
listen: {http: %q, admin: %q}
log: {access: "off"}
origins: {o: {servers: [{url: "http://%s"}]}}
routes:
  - origin: o
    headers: {response: {set: {X-Frame-Options: %s}}}
error_pages: {503: 503.html, maintenance: %v}
`, httpAddr, adminAddr, ln.Addr(), frame, maintenance)
		if err := os.WriteFile(file, []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(false, "DENY")
	cmd, logs := runLogged(t, bin, file)
	waitForLog(t, logs, "edge started")
	get := func() (int, string, string) {
		resp, err := http.Get("http://" + httpAddr + "/")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("X-Frame-Options"), string(b)
	}
	steps := []struct {
		maintenance bool
		set         string // X-Frame-Options written in the file
		frame       string // X-Frame-Options the client gets
		status      int
		body        string
	}{
		{true, "DENY", "DENY", 503, "<h1>maintenance</h1>"},             // the page, with the route's response fields
		{true, "SAMEORIGIN", "SAMEORIGIN", 503, "<h1>maintenance</h1>"}, // a reload's new fields reach it too
		{false, "SAMEORIGIN", "SAMEORIGIN", 200, "site"},
	}
	if status, frame, body := get(); status != 200 || frame != "DENY" || body != "site" {
		t.Fatalf("before reload: %d %q %q", status, frame, body)
	}
	for _, s := range steps {
		write(s.maintenance, s.set)
		cmd.Process.Signal(syscall.SIGHUP)
		waitForLog(t, logs, "configuration reloaded")
		if status, frame, body := get(); status != s.status || frame != s.frame || body != s.body {
			t.Errorf("maintenance %v: %d X-Frame-Options %q body %q; want %d %q %q", s.maintenance, status, frame, body, s.status, s.frame, s.body)
		}
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("SIGTERM exit: %v", err)
	}
}
