package conf

import (
	"errors"
	"testing"
)

// Numbers outside what their component can use were ok and then changed without a word:
// gslb.ttl above 2^31-1 wrapped in the answer's 32 bits (RFC 2181 section 8), and
// compression.level outside 1..9 was clamped to 1 or 9.
func TestParse_numbersOutsideTheirRange(t *testing.T) {
	const rest = "listen: {http: \":80\"}\norigins: {a: {servers: [{url: \"http://127.0.0.1:1\"}]}}\nroutes: [{origin: a}]\n"
	const zone = "gslb:\n  listen: \":53\"\n  zone: c.\n  names: [www]\n"
	cases := []struct{ yaml, key string }{
		{zone + "  ttl: 2147483648\n", "gslb.ttl"},
		{zone + "  ttl: 4294967297\n", "gslb.ttl"},
		{"compression:\n  encodings: [gzip]\n  level: 42\n", "compression.level"},
		{"compression:\n  encodings: [gzip]\n  level: 10\n", "compression.level"},
		{"compression:\n  encodings: [gzip]\n  level: -1\n", "compression.level"},
	}
	for _, tc := range cases {
		_, err := Parse([]byte(rest+tc.yaml), "bad.yaml", "")
		var errs Errors
		if !errors.As(err, &errs) || len(errs) != 1 || errs[0].Key != tc.key || errs[0].Line < 4 {
			t.Errorf("%q: %v; want one %s error with its line", tc.yaml, err, tc.key)
		}
	}
	for _, ok := range []string{zone + "  ttl: 2147483647\n", "compression:\n  encodings: [gzip]\n  level: 9\n", "compression:\n  level: 0\n"} {
		if _, err := Parse([]byte(rest+ok), "good.yaml", ""); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
}
