package edge

import (
	"log/slog"
	"strings"
	"testing"
	"time"
)

// A pool names itself in its log lines ("pool" is its attribute); the node must not add the
// attribute again, or every health line carries pool=… twice and a log pipeline that keys
// records by attribute sees a duplicate key.
func TestNode_poolLogLinesNameThePoolOnce(t *testing.T) {
	var buf syncBuffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	dead := "http://" + closedAddr(t)
	startNode(t, `node: {name: poollog}
cache: {memory: 8MiB}
origins:
  dead: {servers: [{url: `+dead+`}], health: {path: /health, interval: 50ms, timeout: 40ms, rise: 1, fall: 1}}
routes:
  - {match: {path_prefix: /}, origin: dead}
`, Options{Logger: log})
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(buf.String(), "origin server down") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	var line string
	for _, l := range strings.Split(buf.String(), "\n") {
		if strings.Contains(l, "origin server down") {
			line = l
			break
		}
	}
	if line == "" {
		t.Fatalf("no \"origin server down\" line in 5 s; log:\n%s", buf.String())
	}
	if got := strings.Count(line, " pool="); got != 1 {
		t.Fatalf("pool named %d times, want once: %s", got, line)
	}
}
