package purge

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/conf"
)

// TestService_logLinesHaveEachKeyOnce: the line for a peer's purge older than the ban log
// carried the purge's "time" beside the record's own, so a JSON log pipeline kept one of the
// two (jq the last: the purge's, which then sorted the line an hour back).
func TestService_logLinesHaveEachKeyOnce(t *testing.T) {
	var out bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := newTestService(t, conf.Purge{Token: testToken}, newTestMemory(t), StaticCluster{Name: "edge-1"}, Options{Logger: log})
	old := Request{ID: "0123456789abcdef0123456789abcdef", Time: time.Now().Add(-2 * logAge), Kind: KindAll}
	if _, _, err := s.applyRemote(old, sourcePeer); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	found := false
	for _, line := range lines {
		if strings.Contains(line, "older than the ban log") {
			found = true
		}
		dec := json.NewDecoder(strings.NewReader(line))
		dec.Token()
		seen := map[string]bool{}
		for dec.More() {
			tok, _ := dec.Token()
			key, _ := tok.(string)
			if seen[key] {
				t.Errorf("%q twice in %s", key, line)
			}
			seen[key] = true
			var skip json.RawMessage
			dec.Decode(&skip)
		}
	}
	if !found {
		t.Fatalf("no line about the old purge: %q", lines)
	}
}
