package ring

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestGossipKey_derivesAES256FromAnyText(t *testing.T) {
	a := gossipKey("correct horse battery staple")
	if len(a) != 32 {
		t.Fatalf("key has %d bytes, want 32 for AES-256", len(a))
	}
	if !bytes.Equal(a, gossipKey("correct horse battery staple\n")) {
		t.Error("a trailing newline changed the key")
	}
	if bytes.Equal(a, gossipKey("correct horse battery stapler")) {
		t.Error("different secrets gave the same key")
	}
}

func TestSplitHostPort(t *testing.T) {
	tests := []struct {
		in       string
		host     string
		port     int
		wantsErr bool
	}{
		{":7946", "", 7946, false},
		{"10.0.0.1:7000", "10.0.0.1", 7000, false},
		{"10.0.0.1", "10.0.0.1", 7946, false},
		{"[::1]:0", "::1", 0, false},
		{"10.0.0.1:x", "", 0, true},
		{"10.0.0.1:70000", "", 0, true},
	}
	for _, tt := range tests {
		host, port, err := splitHostPort(tt.in, 7946)
		if (err != nil) != tt.wantsErr || host != tt.host || port != tt.port {
			t.Errorf("splitHostPort(%q) = %q, %d, %v", tt.in, host, port, err)
		}
	}
}

func TestSlogWriter_mapsMemberlistLevels(t *testing.T) {
	tests := []struct {
		line  string
		level string
		msg   string
	}{
		{"[DEBUG] memberlist: Stream connection from=x", "DEBUG", "memberlist: Stream connection from=x"},
		{"[INFO] memberlist: Suspect edge-3 has failed", "INFO", "memberlist: Suspect edge-3 has failed"},
		{"[WARN] memberlist: Refuting a suspect message", "WARN", "memberlist: Refuting a suspect message"},
		{"[ERR] memberlist: Failed to send", "ERROR", "memberlist: Failed to send"},
		{"no level at all", "INFO", "no level at all"},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		w := slogWriter{slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug}))}
		_, _ = w.Write([]byte(tt.line + "\n"))
		got := out.String()
		if !strings.Contains(got, "level="+tt.level) || !strings.Contains(got, tt.msg) {
			t.Errorf("%q logged as %q", tt.line, got)
		}
	}
}
