package conf

import (
	"errors"
	"strings"
	"testing"
)

// TestParse_secondDocumentRefused: a file holding two YAML documents ("---" between them)
// was read up to the first and the rest ignored without a word, so every key of the second
// (an operator's appended overrides, or two files concatenated) was silently ignored.
func TestParse_secondDocumentRefused(t *testing.T) {
	const first = "listen: {http: \":80\"}\norigins: {a: {servers: [{url: \"http://127.0.0.1:1\"}]}}\nroutes: [{origin: a}]\n"
	for _, tc := range []struct {
		second string
		line   int // of the second document's first key, or of --- when it has none
	}{{"---\ncache: {memory: 1GiB}\n", 5}, {"---\nbogus: 1\n", 5}, {"--- {}\n", 4}} {
		_, err := Parse([]byte(first+tc.second), "two.yaml", "")
		var errs Errors
		if !errors.As(err, &errs) || len(errs) != 1 || errs[0].Line != tc.line || !strings.Contains(errs[0].Msg, "document") {
			t.Errorf("%q after the config: %v; want one error about the second document on line %d", tc.second, err, tc.line)
		}
	}
	for _, ok := range []string{"---\n" + first, first + "...\n", "---\n" + first + "...\n"} {
		if _, err := Parse([]byte(ok), "one.yaml", ""); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
}
