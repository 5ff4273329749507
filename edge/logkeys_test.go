package edge

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// lockedBuffer collects a logger's lines from every goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Split(strings.TrimSpace(l.b.String()), "\n")
}

// duplicateKey returns the first top-level key written twice in one JSON log line, or "".
func duplicateKey(line string) string {
	dec := json.NewDecoder(strings.NewReader(line))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return ""
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		key, _ := tok.(string)
		if seen[key] {
			return key
		}
		seen[key] = true
		var skip json.RawMessage
		if dec.Decode(&skip) != nil {
			return ""
		}
	}
	return ""
}

// The ring's and memberlist's log lines carried "component" twice ("ring","ring" and
// "ring","memberlist"): edge named the logger it handed the ring, which names its own. A
// JSON line with a key twice is read differently by every log pipeline (jq keeps the last).
func TestCluster_logLinesHaveEachKeyOnce(t *testing.T) {
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {})
	secret := writeSecret(t)
	var out lockedBuffer
	log := slog.New(slog.NewJSONHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug}))
	first := startNode(t, clusterConfigWith(t, "node-1", secret, "", origin.URL, ""), Options{Logger: log})
	second := startNode(t, clusterConfigWith(t, "node-2", secret, first.Ring().GossipAddr(), origin.URL, ""), Options{Logger: log})
	waitMembers(t, []*Node{first, second}, 2)
	ringLines := 0
	for _, line := range out.lines() {
		if strings.Contains(line, `"ring`) {
			ringLines++
		}
		if key := duplicateKey(line); key != "" {
			t.Errorf("%q twice in %s", key, line)
		}
	}
	if ringLines == 0 {
		t.Fatalf("no ring lines logged at debug: %q", out.lines())
	}
}
