package conf

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// A file of ten nested lists of ten aliases each ("billion laughs") never came back from
// Parse: indexing the lines of keys followed every alias into its anchor, ten billion visits.
// It comes back refused, and an alias in an ordinary file still gets its key's line.
func TestParse_aliasBombIsRefused(t *testing.T) {
	var b strings.Builder
	b.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 10; i++ {
		fmt.Fprintf(&b, "a%d: &a%d [%s]\n", i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*a%d, ", i-1), 10), ", "))
	}
	var errs Errors
	for _, bomb := range []string{b.String(), b.String() + "trusted_proxies: *a9\n"} {
		// Refused (unknown keys a0..a9, lists where strings go), with lines, and returned.
		if _, err := Parse([]byte(bomb), "bomb.yaml", ""); !errors.As(err, &errs) || len(errs) == 0 || errs[0].Line != 1 {
			t.Fatalf("Parse: %v, want errors from line 1", err)
		}
	}

	const ok = "listen: &l {http: \":80\"}\norigins: {a: {servers: [{url: \"http://127.0.0.1:1\"}]}}\nroutes: [{origin: a}]\ncache: &c\n  memory: lots\n"
	_, err := Parse([]byte(ok), "alias.yaml", "")
	if !errors.As(err, &errs) || errs[0].Key != "cache.memory" || errs[0].Line != 5 {
		t.Errorf("Parse with anchors: %v, want cache.memory at line 5", err)
	}
}
