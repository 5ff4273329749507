package conf

import (
	"errors"
	"strings"
	"testing"
)

func TestParse_compressionEncodings(t *testing.T) {
	ok := []string{"[br, zstd, gzip]", "[br]", "[gzip, br]", "[]"}
	for _, list := range ok {
		cfg, err := Parse([]byte("listen: {http: \":80\"}\ncompression:\n  encodings: "+list+"\n"), "ok.yaml", "")
		if err != nil {
			t.Fatalf("encodings %s: %v", list, err)
		}
		if got := "[" + strings.Join(cfg.Compression.Encodings, ", ") + "]"; got != list {
			t.Errorf("encodings %s loaded as %s", list, got)
		}
	}
	bad := []struct {
		yaml, key string
		line      int
	}{
		{"compression:\n  encodings:\n    - br\n    - brotli\n", "compression.encodings[1]", 5},
		{"compression:\n  encodings: [deflate]\n", "compression.encodings[0]", 3},
		{"compression:\n  encodings:\n    - BR\n", "compression.encodings[0]", 4},
	}
	for _, tc := range bad {
		_, err := Parse([]byte("listen: {http: \":80\"}\n"+tc.yaml), "bad.yaml", "")
		var errs Errors
		if !errors.As(err, &errs) || len(errs) == 0 {
			t.Fatalf("%q: want conf.Errors, got %v", tc.yaml, err)
		}
		e := errs[0]
		if e.Key != tc.key || e.Line != tc.line || !strings.Contains(e.Msg, "br, zstd or gzip") {
			t.Errorf("%q: got key=%q line=%d msg=%q; want key=%q line=%d", tc.yaml, e.Key, e.Line, e.Msg, tc.key, tc.line)
		}
	}
}

// compression.types took any text: an entry that is no media type ("html", "", one with a
// parameter) matched no response, so the type it meant went uncompressed without a word.
func TestParse_compressionTypesAreMediaTypes(t *testing.T) {
	for i, typ := range []string{`html`, `""`, `"text/html; charset=utf-8"`, `text/`, `/json`, `"text /html"`, `-1`} {
		file := "listen: {http: \":80\"}\ncompression:\n  encodings: [gzip]\n  types: [text/*, " + typ + "]\n"
		_, err := Parse([]byte(file), "bad.yaml", "")
		var errs Errors
		if !errors.As(err, &errs) || len(errs) != 1 || errs[0].Key != "compression.types[1]" || errs[0].Line != 4 {
			t.Errorf("%d: types [text/*, %s]: %v; want one error at compression.types[1] line 4", i, typ, err)
		}
	}
	file := "listen: {http: \":80\"}\ncompression: {encodings: [gzip], types: [text/*, application/json, \"*/*\", image/svg+xml]}\n"
	if _, err := Parse([]byte(file), "ok.yaml", ""); err != nil {
		t.Errorf("media types: %v", err)
	}
}
