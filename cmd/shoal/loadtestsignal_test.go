package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

// `shoal loadtest attack` is vegeta's attack, and vegeta's CLI stops sending at the first
// Ctrl-C and exits at the second. Ours ignored the second: it waited for every request in
// flight (up to -timeout) against a stalled server, the very case Ctrl-C twice is for. Now the
// second SIGINT stops waiting, and the results already written stay readable.
func TestLoadtest_secondInterruptStopsWaitingForRequestsInFlight(t *testing.T) {
	originURL, arrived, release := heldOrigin(t)
	defer close(release)
	out := filepath.Join(t.TempDir(), "results.bin")
	cmd := exec.Command(testenv.ShoalBinary(t), "loadtest", "attack", "-scenario", "hit", "-keys", "1",
		"-base", originURL, "-rate", "20", "-duration", "30s", "-timeout", "60s", "-output", out)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.Process.Kill() == nil {
			<-exited
		}
	})
	for i := 0; i < 3; i++ { // three requests held at the origin
		select {
		case <-arrived:
		case <-time.After(10 * time.Second):
			t.Fatal("the attack's requests never reached the origin")
		}
	}
	cmd.Process.Signal(syscall.SIGINT)
	// Standard signals are not queued: a second SIGINT sent before the first was taken merges
	// with it, so the second Ctrl-C is repeated every 100 ms until the attack ends (a person's
	// second press comes later than the first's handling). Before the fix no number of them
	// ended it. An exit by any means counts: a SIGINT that lands after the attack has put the
	// default handling back ends it by the signal.
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	limit := time.After(10 * time.Second)
wait:
	for {
		select {
		case <-tick.C:
			cmd.Process.Signal(syscall.SIGINT)
		case <-exited:
			break wait
		case <-limit:
			t.Fatal("still running 10 s after a second SIGINT, waiting for requests held at the origin")
		}
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := vegeta.NewDecoder(f)
	for {
		var r vegeta.Result
		if err := dec.Decode(&r); err != nil {
			break // the file ends where the attack was abandoned; what is there decodes
		}
	}
}
