package origin

import (
	"errors"
	"strings"
	"testing"
)

// The node's "origin request failed" line named the server by its opaque sticky-cookie id
// alone ("server a5a761b350ad0452: connect: connect: dial tcp ..."), so an operator had to
// look the id up on /stats to learn which machine failed, and the kind stuttered. It now names
// the address, as nginx's "upstream:" does, and says the kind once. A failed upgrade (a
// WebSocket tunnel) left Error.Addr empty, so its access log line had no upstream address.
func TestError_namesTheServersAddressAndTheKindOnce(t *testing.T) {
	addr := closedPort(t)
	p, _ := newTestPool(t, poolConf("", "http://"+addr), nil)
	_, _, _, doErr := doGet(t, p, "/", Target{Idempotent: true})
	_, upErr := p.Upgrade(rawHead("GET /t HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: echo\r\n"), Target{})
	for name, err := range map[string]error{"Do": doErr, "Upgrade": upErr} {
		var oe *Error
		if !errors.As(err, &oe) || oe.Kind != KindConnect {
			t.Fatalf("%s: %v, want a connect Error", name, err)
		}
		msg := err.Error()
		if !strings.Contains(msg, "server "+addr+" ") || strings.Count(msg, "connect: ") > 2 || strings.Contains(msg, "connect: connect:") {
			t.Errorf("%s: %q; want the server's address and the kind said once", name, msg)
		}
		if oe.Addr != addr {
			t.Errorf("%s: Error.Addr %q, want %q (the access log's upstream)", name, oe.Addr, addr)
		}
	}
}
