package edge

import (
	"log/slog"
	"strings"
	"testing"
)

// TestFasthttpLogger_eachKeyOnce: fasthttp's messages (a malformed head, a connection error)
// were logged with their text under "msg", beside the record's own "msg":"fasthttp", so a JSON
// log pipeline kept one of the two (jq the last: the line lost its "fasthttp").
func TestFasthttpLogger_eachKeyOnce(t *testing.T) {
	var out lockedBuffer
	fasthttpLogger{slog.New(slog.NewJSONHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug}))}.Printf("error when serving connection %q", "127.0.0.1:1")
	line := out.lines()[0]
	if key := duplicateKey(line); key != "" || !strings.Contains(line, "error when serving connection") {
		t.Errorf("%q twice in %s (or the text is lost)", key, line)
	}
}
