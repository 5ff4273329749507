package conf

import (
	"errors"
	"testing"
)

// TestParse_serverURLsTheNodeCannotDial: an origin server's port outside 1..65535
// ("http://[::1]:99999", ":0") was ok to `shoal check`, and every request to it failed at the
// dial; and the same server written twice, once with its scheme's default port and once
// without, was not the duplicate it is (two entries, double its share).
func TestParse_serverURLsTheNodeCannotDial(t *testing.T) {
	const rest = "listen: {http: \":80\"}\nroutes: [{origin: a}]\norigins:\n  a:\n    servers:\n"
	for _, tc := range []struct{ servers, key string }{
		{"      - url: \"http://[::1]:99999\"\n", "origins.a.servers[0].url"},
		{"      - url: \"http://127.0.0.1:0\"\n", "origins.a.servers[0].url"},
		{"      - url: \"https://127.0.0.1:65536\"\n", "origins.a.servers[0].url"},
		{"      - url: \"http://127.0.0.1\"\n      - url: \"http://127.0.0.1:80\"\n", "origins.a.servers[1].url"},
		{"      - url: \"https://a.example:443\"\n      - url: \"https://A.example/\"\n", "origins.a.servers[1].url"},
		// A port without a host: the dial of ":80" reached this machine, not an origin.
		{"      - url: \"http://:80\"\n", "origins.a.servers[0].url"},
		{"      - url: \"https://:8443\"\n", "origins.a.servers[0].url"},
	} {
		_, err := Parse([]byte(rest+tc.servers), "bad.yaml", "")
		var errs Errors
		if !errors.As(err, &errs) || len(errs) != 1 || errs[0].Key != tc.key || errs[0].Line < 6 {
			t.Errorf("%q: %v; want one %s error with its line", tc.servers, err, tc.key)
		}
	}
	ok := "      - url: \"http://127.0.0.1:8080\"\n      - url: \"https://127.0.0.1:8080\"\n      - url: \"http://127.0.0.1:65535\"\n"
	if _, err := Parse([]byte(rest+ok), "good.yaml", ""); err != nil {
		t.Errorf("%q: %v", ok, err)
	}
}
