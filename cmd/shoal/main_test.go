package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

func TestRun_checkReportsKeyAndLineAndExitCode(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("listen: {http: \":8080\"}\ncache:\n  memory: lots\n"), 0o644)
	good := filepath.Join(dir, "good.yaml")
	os.WriteFile(good, []byte("listen: {http: \":8080\"}\norigins: {a: {servers: [{url: \"http://127.0.0.1:1\"}]}}\nroutes: [{origin: a}]\n"), 0o644)
	var stdout, stderr bytes.Buffer
	if code := run([]string{"check", "-c", bad}, &stdout, &stderr); code != 1 {
		t.Errorf("check of a bad file exited %d, want 1", code)
	}
	if !strings.Contains(stderr.String(), "bad.yaml:3: cache.memory: invalid size") {
		t.Errorf("check output does not name key and line: %q", stderr.String())
	}
	stdout.Reset()
	if code := run([]string{"check", "-c", good}, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "ok") {
		t.Errorf("check of a good file: exit %d, %q", code, stdout.String())
	}
	if code := run([]string{"check", "-c", filepath.Join(dir, "missing.yaml")}, &stdout, &stderr); code != 1 {
		t.Errorf("check of a missing file exited %d", code)
	}
}

func TestRun_versionHelpAndUnknownCommand(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"version"}, &stdout, &stderr); code != 0 || !strings.HasPrefix(stdout.String(), "shoal ") {
		t.Errorf("version: %d %q", code, stdout.String())
	}
	if code := run([]string{"frobnicate"}, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), "unknown command") {
		t.Errorf("unknown command: %d %q", code, stderr.String())
	}
	stdout.Reset()
	if code := run([]string{"help"}, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "shoal run -c FILE") {
		t.Errorf("help: %d", code)
	}
	// An argument version does not take exited 0, as if what followed had run.
	stdout.Reset()
	if code := run([]string{"--version", "check", "-c", "x.yaml"}, &stdout, &stderr); code != 2 || stdout.Len() != 0 || !strings.Contains(stderr.String(), `unexpected argument "check"`) {
		t.Errorf("version with an argument: exit %d, stdout %q", code, stdout.String())
	}
}

// A real process: SIGHUP with an invalid file keeps the old configuration, with a valid one
// applies the new routes; SIGTERM drains and exits 0.
func TestRun_signalsReloadAndDrain(t *testing.T) {
	bin := testenv.ShoalBinary(t)
	origin := func(body string) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, body) })}
		go srv.Serve(ln)
		t.Cleanup(func() { srv.Close() })
		return "http://" + ln.Addr().String()
	}
	one, two := origin("one"), origin("two")
	httpAddr, adminAddr := testenv.FreePort(t), testenv.FreePort(t)
	file := filepath.Join(t.TempDir(), "shoal.yaml")
	write := func(originURL string) {
		cfg := fmt.Sprintf("node: {name: p}\nlisten: {http: %q, admin: %q}\nlog: {access: \"off\"}\norigins: {o: {servers: [{url: %q}]}}\nroutes: [{origin: o}]\n", httpAddr, adminAddr, originURL)
		if err := os.WriteFile(file, []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(one)
	cmd, logs := runLogged(t, bin, file)
	waitForLog(t, logs, "edge started")
	body := func() string {
		resp, err := http.Get("http://" + httpAddr + "/")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if got := body(); got != "one" {
		t.Fatalf("before reload: %q", got)
	}
	os.WriteFile(file, []byte("listen: {http: \":1\"\n"), 0o644)
	cmd.Process.Signal(syscall.SIGHUP)
	waitForLog(t, logs, "reload refused")
	if got := body(); got != "one" {
		t.Errorf("after an invalid reload: %q, want the old config", got)
	}
	write(two)
	cmd.Process.Signal(syscall.SIGHUP)
	waitForLog(t, logs, "configuration reloaded")
	if got := body(); got != "two" {
		t.Errorf("after a valid reload: %q", got)
	}
	// SIGUSR1 (logrotate's habit from nginx) and SIGUSR2 (nginx's binary upgrade) change
	// nothing and say why in the log. Before: ignored in silence (Go's default).
	for _, sig := range []syscall.Signal{syscall.SIGUSR1, syscall.SIGUSR2} {
		cmd.Process.Signal(sig)
		waitForLog(t, logs, "signal ignored")
		if got := body(); got != "two" {
			t.Errorf("after %v: %q", sig, got)
		}
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("SIGTERM exit: %v", err)
	}
}

// waitForLog reads logs until a line holds want and returns the lines read, that one last.
func waitForLog(t *testing.T, logs <-chan string, want string) []string {
	t.Helper()
	var seen []string
	timeout := time.After(30 * time.Second)
	for {
		select {
		case line, ok := <-logs:
			if !ok {
				t.Fatalf("process exited before logging %q; it logged:\n%s", want, strings.Join(seen, "\n"))
			}
			seen = append(seen, line)
			if strings.Contains(line, want) {
				return seen
			}
		case <-timeout:
			t.Fatalf("no %q in the log within 30 s", want)
		}
	}
}

// runLogged starts `shoal run -c file` and returns it with a channel of its stderr lines
// (closed when the process ends); the process is killed when the test ends.
func runLogged(t *testing.T, bin, file string) (*exec.Cmd, <-chan string) {
	t.Helper()
	cmd := exec.Command(bin, "run", "-c", file)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	logs := make(chan string, 100)
	go func() {
		s := bufio.NewScanner(stderr)
		for s.Scan() {
			logs <- s.Text()
		}
		close(logs)
	}()
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd, logs
}
