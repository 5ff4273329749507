package main

import (
	"errors"
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

// heldOrigin answers every request only once release is closed (or the client goes), and
// tells arrived of each request it holds: a request in flight for as long as a test wants.
func heldOrigin(t *testing.T) (url string, arrived <-chan struct{}, release chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	in, rel := make(chan struct{}, 16), make(chan struct{})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in <- struct{}{}
		select {
		case <-rel:
		case <-r.Context().Done():
			return
		}
		fmt.Fprint(w, "finished")
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String(), in, rel
}

// startHeldNode runs `shoal run` in front of a held origin, on a pass route, and returns it
// once a request is in flight, with the channel that gets that request's outcome.
func startHeldNode(t *testing.T) (cmd *exec.Cmd, logs <-chan string, release chan struct{}, answer <-chan string) {
	t.Helper()
	originURL, arrived, release := heldOrigin(t)
	httpAddr, adminAddr := testenv.FreePort(t), testenv.FreePort(t)
	file := filepath.Join(t.TempDir(), "shoal.yaml")
	cfg := fmt.Sprintf("node: {name: d}\nlisten: {http: %q, admin: %q}\nlog: {access: \"off\"}\n"+
		"origins: {o: {servers: [{url: %q}]}}\nroutes: [{origin: o, cache: false}]\n", httpAddr, adminAddr, originURL)
	if err := os.WriteFile(file, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd, logs = runLogged(t, testenv.ShoalBinary(t), file)
	waitForLog(t, logs, "edge started")
	out := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + httpAddr + "/slow")
		if err != nil {
			out <- "error: " + err.Error()
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		out <- fmt.Sprintf("%d %s %v", resp.StatusCode, b, err)
	}()
	select {
	case <-arrived:
	case <-time.After(10 * time.Second):
		t.Fatal("the request never reached the origin")
	}
	return cmd, logs, release, out
}

// waitExit waits up to limit for cmd to end and returns its exit code, or -1 if it did not
// (then it kills cmd and reaps it, so that no Wait is left running beside a cleanup's).
func waitExit(cmd *exec.Cmd, limit time.Duration) int {
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode()
		}
		return 0
	case <-time.After(limit):
		cmd.Process.Kill()
		<-done
		return -1
	}
}

// SIGTERM drains: the request in flight is answered in full, then the node exits 0.
func TestRun_sigtermFinishesTheRequestInFlight(t *testing.T) {
	cmd, logs, release, answer := startHeldNode(t)
	cmd.Process.Signal(syscall.SIGTERM)
	waitForLog(t, logs, "shutting down")
	close(release)
	if got := <-answer; got != "200 finished <nil>" {
		t.Errorf("the request in flight at SIGTERM got %q, want 200 finished", got)
	}
	if code := waitExit(cmd, 20*time.Second); code != 0 {
		t.Errorf("exit after the drain: %d, want 0", code)
	}
}

// A second SIGTERM or SIGINT while draining (Ctrl-C twice, as with Go's own tools and
// HAProxy's hard stop) ends the drain: the node stops at once, says so and exits 1. Before,
// the second signal was dropped in silence and the node waited for the request in flight
// (here until the origin's first_byte_timeout, 15 s).
func TestRun_secondSignalStopsWithoutWaitingForRequestsInFlight(t *testing.T) {
	for _, second := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(second.String(), func(t *testing.T) {
			cmd, logs, release, _ := startHeldNode(t)
			defer close(release)
			cmd.Process.Signal(syscall.SIGINT)
			waitForLog(t, logs, "shutting down")
			cmd.Process.Signal(syscall.SIGHUP) // no reload while draining; logged, nothing else
			waitForLog(t, logs, "signal ignored while draining")
			cmd.Process.Signal(second)
			lines := waitForLog(t, logs, "second signal")
			if last := lines[len(lines)-1]; !strings.Contains(last, `"signal":"`+second.String()+`"`) || !strings.Contains(last, `"draining_for"`) {
				t.Errorf("the second signal's line names neither the signal nor how long the drain ran: %s", last)
			}
			if code := waitExit(cmd, 10*time.Second); code != 1 {
				t.Errorf("exit after a second signal: %d (-1: still running after 10 s), want 1 at once", code)
			}
		})
	}
}
