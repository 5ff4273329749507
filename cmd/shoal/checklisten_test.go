package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

// A listen address that is not on this machine (a file copied from another node, a
// documentation address) is refused by `shoal check` with its key and line, as `shoal run`
// refuses it when it binds. Failed before: check said "ok" and run exited with
// "bind: cannot assign requested address".
func TestCheck_listenAddressNotOnThisMachine(t *testing.T) {
	bin := testenv.ShoalBinary(t)
	file := filepath.Join(t.TempDir(), "shoal.yaml")
	// 192.0.2.0/24 is TEST-NET-1 (RFC 5737): on no machine's interfaces.
	yaml := "listen:\n  http: \"127.0.0.1:0\"\n  admin: \"192.0.2.1:0\"\norigins: {a: {servers: [{url: \"http://127.0.0.1:1\"}]}}\nroutes: [{origin: a}]\n"
	if err := os.WriteFile(file, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	want := file + ":3: listen.admin"
	var stdout, stderr bytes.Buffer
	if code := run([]string{"check", "-c", file}, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), want+`: "192.0.2.1:0": 192.0.2.1 is not an address of this machine`) {
		t.Errorf("shoal check exited %d with %q %q; want 1 and %q", code, stdout.String(), stderr.String(), want)
	}
	if code, runErr := runWithDeadline(bin, "run", "-c", file); code != 1 || !strings.Contains(runErr, want) {
		t.Errorf("shoal run exited %d with %q; want 1 and %q", code, runErr, want)
	}
}

// runWithDeadline runs the shoal binary with args and returns its exit code (-1 when the
// deadline killed it) and stderr: a `run` that accepts its file serves until killed.
func runWithDeadline(bin string, args ...string) (int, string) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var stderr bytes.Buffer
	p := exec.CommandContext(ctx, bin, args...)
	p.Stderr = &stderr
	p.Run()
	return p.ProcessState.ExitCode(), stderr.String()
}
