package compress

import "testing"

func TestNegotiate_picksTheBestAcceptedOfferedCoding(t *testing.T) {
	both := []Encoding{Zstd, Gzip}
	gzipFirst := []Encoding{Gzip, Zstd}
	gzipOnly := []Encoding{Gzip}
	all3 := []Encoding{Brotli, Zstd, Gzip}
	tests := []struct {
		name    string
		accept  string
		offered []Encoding
		want    Encoding
	}{
		{"chrome 123+", "gzip, deflate, br, zstd", both, Zstd},
		{"chrome with gzip preferred by config", "gzip, deflate, br, zstd", gzipFirst, Gzip},
		{"firefox 126+", "gzip, deflate, br, zstd", gzipOnly, Gzip},
		{"safari", "gzip, deflate, br", both, Gzip},
		{"curl --compressed", "deflate, gzip, br, zstd", both, Zstd},
		{"old IE style", "gzip, deflate", both, Gzip},
		{"no header", "", both, Identity},
		{"nothing offered", "gzip, zstd", nil, Identity},
		{"only unknown codings", "br, deflate", both, Identity},
		{"identity only", "identity", both, Identity},
		{"q=0 excludes zstd", "zstd;q=0, gzip", both, Gzip},
		{"q=0 excludes everything", "zstd;q=0, gzip;q=0", both, Identity},
		{"higher q wins over order", "zstd;q=0.5, gzip;q=0.8", both, Gzip},
		{"equal q keeps config order", "gzip;q=0.8, zstd;q=0.8", both, Zstd},
		{"three-digit q", "zstd;q=0.501, gzip;q=0.5", both, Zstd},
		{"star accepts all", "*", both, Zstd},
		{"star with an exclusion", "*, zstd;q=0", both, Gzip},
		{"star q=0 and listed gzip", "*;q=0, gzip", both, Gzip},
		{"star q=0 alone", "*;q=0", both, Identity},
		{"identity;q=0 still falls back to identity", "identity;q=0, br", both, Identity},
		{"identity;q=0 with gzip", "identity;q=0, gzip", both, Gzip},
		{"identity ranked above codings", "identity, gzip;q=0.5", both, Identity},
		{"identity equal to codings", "identity, gzip", both, Gzip},
		{"x-gzip is gzip", "x-gzip", both, Gzip},
		{"case-insensitive", "GZIP;Q=1.0, ZSTD;Q=0.1", both, Gzip},
		{"whitespace and empty elements", " , gzip ;  q=0.9 ,, ", both, Gzip},
		{"malformed q drops the element", "zstd;q=2, gzip", both, Gzip},
		{"malformed q text", "zstd;q=abc, gzip;q=0.1", both, Gzip},
		{"repeated coding keeps the highest q", "gzip;q=0, gzip;q=0.5", gzipOnly, Gzip},
		{"other parameters ignored", "gzip;level=9", both, Gzip},
		{"identity in offered is never chosen as coding", "*", []Encoding{Identity, Gzip}, Gzip},
		// brotli (RFC 7932) offered first, as compression.encodings: [br, zstd, gzip].
		{"br: chrome gets br", "gzip, deflate, br, zstd", all3, Brotli},
		{"br: safari gets br", "gzip, deflate, br", all3, Brotli},
		{"br: not offered, safari gets gzip", "gzip, deflate, br", both, Gzip},
		{"br: zstd first in config", "gzip, deflate, br, zstd", []Encoding{Zstd, Brotli, Gzip}, Zstd},
		{"br: q=0 excludes br", "br;q=0, zstd, gzip", all3, Zstd},
		{"br: higher q for gzip", "br;q=0.5, gzip;q=0.9", all3, Gzip},
		{"br: higher q for br over config order", "zstd;q=0.4, br;q=0.6", []Encoding{Zstd, Brotli}, Brotli},
		{"br: equal q keeps config order", "gzip;q=0.7, br;q=0.7", all3, Brotli},
		{"br: upper case", "BR;Q=1", all3, Brotli},
		{"br: star covers br", "*", all3, Brotli},
		{"br: star with br excluded", "*, br;q=0", all3, Zstd},
		{"br: identity above br", "identity, br;q=0.2", all3, Identity},
		{"br: malformed q drops br", "br;q=1.5, gzip", all3, Gzip},
		{"br: a longer token is not br", "brotli, bro", all3, Identity},
		{"br: only br offered, only gzip accepted", "gzip", []Encoding{Brotli}, Identity},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Negotiate(tt.accept, tt.offered); got != tt.want {
				t.Errorf("Negotiate(%q, %v) = %q, want %q", tt.accept, tt.offered, got, tt.want)
			}
		})
	}
}

func TestParseEncoding_acceptsConfiguredNames(t *testing.T) {
	tests := []struct {
		in   string
		want Encoding
		ok   bool
	}{
		{"gzip", Gzip, true}, {"ZSTD", Zstd, true}, {"identity", Identity, true}, {"br", Brotli, true}, {"BR", Brotli, true},
		{"brotli", Identity, false}, {"deflate", Identity, false},
	}
	for _, tt := range tests {
		if got, ok := ParseEncoding(tt.in); got != tt.want || ok != tt.ok {
			t.Errorf("ParseEncoding(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestVariantKey_separatesVariantsAndLeavesIdentityAlone(t *testing.T) {
	if VariantKey(Identity) != "" {
		t.Errorf("VariantKey(identity) = %q, want empty", VariantKey(Identity))
	}
	seen := map[string]Encoding{}
	for _, enc := range []Encoding{Identity, Gzip, Zstd, Brotli} {
		k := VariantKey(enc)
		if prev, dup := seen[k]; dup {
			t.Errorf("VariantKey(%q) = VariantKey(%q) = %q", enc, prev, k)
		}
		seen[k] = enc
		if enc != Identity && k[0] != 0 {
			t.Errorf("VariantKey(%q) = %q does not start with NUL", enc, k)
		}
	}
}
