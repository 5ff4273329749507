package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

// A real process: SIGHUP applies log.level, as an operator of nginx or HAProxy expects (it was
// refused as a restart-only key). A bad connection preface on listen.h2c is the probe: the
// node logs it at debug. A refused reload keeps the level in force.
func TestRun_sighupAppliesLogLevel(t *testing.T) {
	bin := testenv.ShoalBinary(t)
	httpAddr, h2cAddr, adminAddr := testenv.FreePort(t), testenv.FreePort(t), testenv.FreePort(t)
	file := filepath.Join(t.TempDir(), "shoal.yaml")
	write := func(level string) {
		cfg := fmt.Sprintf(`node: {name: p}
listen: {http: %q, h2c: %q, admin: %q}
log: {access: "off", level: %s}
origins: {o: {servers: [{url: "http://127.0.0.1:9"}]}}
routes: [{origin: o}]
`, httpAddr, h2cAddr, adminAddr, level)
		if err := os.WriteFile(file, []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	badPreface := func() {
		c, err := net.Dial("tcp", h2cAddr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		var b [256]byte
		for { // until the node closes: its debug line is written before that
			if _, err := c.Read(b[:]); err != nil {
				return
			}
		}
	}
	probed := func(lines []string) bool {
		for _, l := range lines {
			if strings.Contains(l, "bad connection preface") {
				return true
			}
		}
		return false
	}
	write("info")
	cmd, logs := runLogged(t, bin, file)
	waitForLog(t, logs, "edge started")

	badPreface()
	cmd.Process.Signal(syscall.SIGHUP) // the same file: a marker line after the probe
	if probed(waitForLog(t, logs, "configuration reloaded")) {
		t.Fatal("a debug line logged at log.level info")
	}

	write("debug")
	cmd.Process.Signal(syscall.SIGHUP)
	waitForLog(t, logs, "configuration reloaded")
	badPreface()
	write("debug\nbogus: 1")
	cmd.Process.Signal(syscall.SIGHUP)
	if lines := waitForLog(t, logs, "reload refused"); !probed(lines) {
		t.Errorf("log.level debug after SIGHUP: no debug line logged: %q", lines)
	}

	badPreface() // the refused reload left debug in force
	write("warn")
	cmd.Process.Signal(syscall.SIGHUP)
	if lines := waitForLog(t, logs, "configuration reloaded"); !probed(lines) {
		t.Errorf("log.level debug after a refused reload: no debug line logged: %q", lines)
	}

	badPreface()
	write("warn\nbogus: 1")
	cmd.Process.Signal(syscall.SIGHUP) // refused: an error line, logged at warn
	if lines := waitForLog(t, logs, "reload refused"); probed(lines) {
		t.Errorf("log.level warn after SIGHUP: a debug line logged: %q", lines)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("SIGTERM exit: %v", err)
	}
}
