package compress

import (
	"strings"
	"testing"
)

// FuzzNegotiate feeds arbitrary Accept-Encoding values: Negotiate must not panic, must answer
// with an offered coding or identity, and must never pick a coding the client excluded.
func FuzzNegotiate(f *testing.F) {
	for _, seed := range []string{"gzip, deflate, br, zstd", "*;q=0", "identity;q=0", "zstd;q=0.5, gzip;q=1.000",
		"x-gzip", ";;;,,,", "gzip;q=", "gzip;q=1.0001", "\x00\xff"} {
		f.Add(seed)
	}
	offered := []Encoding{Brotli, Zstd, Gzip}
	f.Fuzz(func(t *testing.T, accept string) {
		got := Negotiate(accept, offered)
		if got != Identity && got != Zstd && got != Gzip && got != Brotli {
			t.Fatalf("Negotiate(%q) = %q, not offered", accept, got)
		}
		if got != Identity && !strings.Contains(strings.ToLower(accept), string(got)) && !strings.Contains(accept, "*") {
			t.Fatalf("Negotiate(%q) = %q, which the client never named", accept, got)
		}
		// The only exclusion stated alone: "<coding>;q=0" with nothing else listed.
		if got != Identity && strings.EqualFold(strings.TrimSpace(accept), string(got)+";q=0") {
			t.Fatalf("Negotiate(%q) = %q, which the client excluded", accept, got)
		}
		if again := Negotiate(accept, offered); again != got {
			t.Fatalf("Negotiate(%q) not deterministic: %q then %q", accept, got, again)
		}
	})
}
