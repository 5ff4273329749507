// Package bench holds tests of the shell helpers run.sh sources (measure.sh); the
// benchmark itself is run.sh.
package bench

import (
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// ports_in_use must stop run.sh before it starts its servers when another process listens
// on one of its ports: a test server on the origin's port once answered every fill with a
// 404 and the run measured it for ten minutes.
func TestPortsInUse_refusesATakenPortAndPassesFreeOnes(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	free, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	freePort := strconv.Itoa(free.Addr().(*net.TCPAddr).Port)
	free.Close()
	takenPort := strconv.Itoa(taken.Addr().(*net.TCPAddr).Port)

	for _, tc := range []struct {
		name  string
		ports []string
		code  int
	}{
		{"all free", []string{freePort}, 0},
		{"one taken", []string{freePort, takenPort}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command("bash", "-c", `. ./measure.sh && ports_in_use "$@" && echo free`, "bash")
			cmd.Args = append(cmd.Args, tc.ports...)
			out, err := cmd.CombinedOutput()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tc.code {
				t.Fatalf("exit %d (%s), want %d", code, out, tc.code)
			}
			if tc.code != 0 && (!strings.Contains(string(out), takenPort) || strings.Contains(string(out), freePort)) {
				t.Fatalf("output %q: want the taken port %s named, and not the free %s", out, takenPort, freePort)
			}
			if tc.code == 0 && !strings.Contains(string(out), "free") {
				t.Fatalf("output %q: ports_in_use did not return", out)
			}
		})
	}
}
